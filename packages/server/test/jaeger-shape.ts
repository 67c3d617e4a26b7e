/**
 * Checks a value against the JSON shapes of Jaeger's query API field by field (names, types, tag
 * types and the value type each implies, references, processes), so a test can assert "this is what
 * Jaeger UI and Grafana read" on any answer, not only on hand-written expectations.
 */
import assert from 'node:assert/strict';

const TAG_TYPES = new Set(['string', 'bool', 'int64', 'float64', 'binary']);
const HEX = /^[0-9a-f]+$/;

function keysOf(v: unknown): string[] {
  return Object.keys(v as object).sort();
}

export function assertJaegerTag(t: unknown, where: string): void {
  const tag = t as { key: unknown; type: unknown; value: unknown };
  assert.deepEqual(keysOf(tag), ['key', 'type', 'value'], where);
  assert.equal(typeof tag.key, 'string', where);
  assert.ok(TAG_TYPES.has(tag.type as string), `${where}: tag type ${String(tag.type)}`);
  const expected = tag.type === 'bool' ? 'boolean' : tag.type === 'int64' || tag.type === 'float64' ? 'number' : 'string';
  assert.equal(typeof tag.value, expected, `${where}: ${String(tag.key)} is ${String(tag.type)}`);
  if (tag.type === 'int64') assert.ok(Number.isInteger(tag.value), `${where}: int64 ${String(tag.value)}`);
  if (tag.type === 'binary') assert.match(tag.value as string, /^[A-Za-z0-9+/]*={0,2}$/, where);
}

export function assertJaegerTrace(t: unknown): void {
  const trace = t as Record<string, unknown>;
  assert.deepEqual(keysOf(trace), ['processes', 'spans', 'traceID', 'warnings']);
  assert.match(trace.traceID as string, HEX);
  assert.ok((trace.traceID as string).length === 16 || (trace.traceID as string).length === 32);
  const processes = trace.processes as Record<string, { serviceName: unknown; tags: unknown[] }>;
  const seen = new Set<string>();
  for (const [id, p] of Object.entries(processes)) {
    assert.match(id, /^p[0-9]+$/);
    assert.deepEqual(keysOf(p), ['serviceName', 'tags'], id);
    assert.equal(typeof p.serviceName, 'string');
    p.tags.forEach((tag, i) => assertJaegerTag(tag, `${id}.tags[${i}]`));
    const key = JSON.stringify(p);
    assert.ok(!seen.has(key), `process ${id} repeats another process: processes are de-duplicated`);
    seen.add(key);
  }
  const spans = trace.spans as Record<string, unknown>[];
  assert.ok(spans.length > 0);
  const used = new Set<string>();
  for (const s of spans) {
    const where = `span ${String(s.spanID)}`;
    assert.deepEqual(
      keysOf(s),
      ['duration', 'logs', 'operationName', 'processID', 'references', 'spanID', 'startTime', 'tags', 'traceID', 'warnings'],
      where,
    );
    assert.equal(s.traceID, trace.traceID, where);
    assert.match(s.spanID as string, /^[0-9a-f]{16}$/, where);
    assert.equal(typeof s.operationName, 'string', where);
    assert.ok(Number.isInteger(s.startTime) && (s.startTime as number) >= 0, where);
    assert.ok(Number.isInteger(s.duration) && (s.duration as number) >= 0, where);
    assert.ok(s.warnings === null || (Array.isArray(s.warnings) && s.warnings.every((w) => typeof w === 'string')), where);
    assert.ok(processes[s.processID as string] !== undefined, `${where}: processID ${String(s.processID)} is in processes`);
    used.add(s.processID as string);
    for (const r of s.references as Record<string, unknown>[]) {
      assert.deepEqual(keysOf(r), ['refType', 'spanID', 'traceID'], where);
      assert.ok(r.refType === 'CHILD_OF' || r.refType === 'FOLLOWS_FROM', where);
      assert.match(r.spanID as string, /^[0-9a-f]{16}$/, where);
      assert.match(r.traceID as string, HEX, where);
    }
    (s.tags as unknown[]).forEach((tag, i) => assertJaegerTag(tag, `${where}.tags[${i}]`));
    for (const l of s.logs as Record<string, unknown>[]) {
      assert.deepEqual(keysOf(l), ['fields', 'timestamp'], where);
      assert.ok(Number.isInteger(l.timestamp), where);
      (l.fields as unknown[]).forEach((f, i) => assertJaegerTag(f, `${where}.logs.fields[${i}]`));
    }
  }
  assert.deepEqual([...used].sort(), Object.keys(processes).sort(), 'every process is used by a span');
}

/** `{data, total, limit, offset, errors}` with `errors` null. */
export function assertJaegerEnvelope(body: unknown): void {
  assert.deepEqual(keysOf(body), ['data', 'errors', 'limit', 'offset', 'total']);
  const b = body as Record<string, unknown>;
  assert.equal(typeof b.total, 'number');
  assert.equal(b.limit, 0);
  assert.equal(b.offset, 0);
  assert.equal(b.errors, null);
}

/** Jaeger's error answer: `{data: null, total: 0, limit: 0, offset: 0, errors: [{code, msg}]}`. */
export function assertJaegerError(status: number, body: unknown, expected: number, where: string): string {
  assert.equal(status, expected, `${where}: ${JSON.stringify(body)}`);
  const b = body as { errors: { code: number; msg: string }[] };
  assert.deepEqual(keysOf(b), ['data', 'errors', 'limit', 'offset', 'total'], where);
  assert.deepEqual({ ...b, errors: b.errors.map((e) => ({ ...e, msg: '' })) }, { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: expected, msg: '' }] }, where);
  assert.ok(b.errors[0]!.msg.length > 0, where);
  return b.errors[0]!.msg;
}
