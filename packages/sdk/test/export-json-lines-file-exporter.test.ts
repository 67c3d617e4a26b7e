import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTR } from '@linktrace/model';
import { jsonLinesFileExporter } from '../src/export/json-lines-file-exporter.js';
import type { JsonLineRecord } from '../src/export/json-line-record.js';
import { RESOURCE, makeSpan } from './export-test-helpers.js';

const res = (dropped: number) => ({ ...RESOURCE, attributes: { ...RESOURCE.attributes, [ATTR.droppedSpans]: dropped } });

/** The documented schema: field -> allowed JSON types. */
const SCHEMA: Record<keyof JsonLineRecord, string[]> = {
  '@timestamp': ['string'],
  traceId: ['string'],
  spanId: ['string'],
  parentSpanId: ['string', 'null'],
  rpcid: ['string', 'null'],
  service: ['string'],
  instance: ['string', 'null'],
  name: ['string'],
  kind: ['string'],
  startUs: ['number'],
  durationUs: ['number', 'null'],
  startRecord: ['boolean'],
  status: ['string'],
  statusMessage: ['string', 'null'],
  attributes: ['object'],
  events: ['array'],
  links: ['array'],
  resource: ['object'],
  scope: ['string', 'null'],
  scopeVersion: ['string', 'null'],
  remoteService: ['string', 'null'],
  remoteAddress: ['string', 'null'],
  remotePort: ['number', 'null'],
};
const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function assertScalarMap(m: unknown, where: string): void {
  assert.equal(typeOf(m), 'object', where);
  for (const [k, v] of Object.entries(m as object)) {
    assert.ok(['string', 'number', 'boolean'].includes(typeof v), `${where}.${k} is ${typeOf(v)}`);
  }
}

void test('one JSON object per line with stable field types, appended across batches', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lt-jsonl-'));
  const path = join(dir, 'nested', 'deeper', 'spans.jsonl');
  try {
    const exporter = jsonLinesFileExporter({ path });
    const rich = makeSpan(2, {
      parentSpanId: '00000000abcd0001',
      rpcid: '0.1.2',
      kind: 'client',
      status: { code: 'error', message: 'boom' },
      attributes: {
        list: ['a', 'b'],
        nums: [1, 2.5],
        raw: new Uint8Array([1, 2, 3]),
        ratio: Number.NaN,
        big: Number.POSITIVE_INFINITY,
        ok: true,
      },
      events: [{ timeUs: 5, name: 'retry', attributes: { attempt: 2 } }, { timeUs: 6, name: 'bare' }],
      links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }],
      resource: { 'host.name': 'web-1', 'deployment.environment': 'from-span' },
      scope: { name: '@linktrace/http', version: '1.0.0' },
      remote: { service: 'db', ipv4: '10.0.0.9', port: 5432 },
    });
    assert.deepEqual(await exporter.export([makeSpan(1), rich], res(0)), { code: 'success' });
    assert.deepEqual(await exporter.export([makeSpan(3, { durationUs: undefined })], res(4)), { code: 'success' });
    const text = await readFile(path, 'utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const records = lines.map((l) => JSON.parse(l) as JsonLineRecord);
    for (const [i, r] of records.entries()) {
      assert.deepEqual(Object.keys(r).sort(), Object.keys(SCHEMA).sort(), `line ${i} fields`);
      for (const [field, types] of Object.entries(SCHEMA)) {
        const t = typeOf((r as unknown as Record<string, unknown>)[field]);
        assert.ok(types.includes(t), `line ${i}: ${field} is ${t}`);
      }
      assertScalarMap(r.attributes, 'attributes');
      assertScalarMap(r.resource, 'resource');
      for (const e of r.events) assertScalarMap(e.attributes, 'event.attributes');
    }
    const [plain, full, started] = records as [JsonLineRecord, JsonLineRecord, JsonLineRecord];
    assert.equal(plain.traceId, makeSpan(1).traceId);
    assert.equal(plain['@timestamp'], new Date(Math.floor(makeSpan(1).startUs / 1000)).toISOString());
    assert.equal(plain.parentSpanId, null);
    assert.equal(plain.durationUs, makeSpan(1).durationUs);
    assert.equal(plain.startRecord, false);
    assert.equal(plain.resource[ATTR.droppedSpans], 0);
    assert.equal(plain.resource['deployment.environment'], 'test');
    assert.deepEqual(full.attributes, { list: '["a","b"]', nums: '[1,2.5]', raw: 'AQID', ratio: 'NaN', big: 'Infinity', ok: true });
    assert.deepEqual(full.events, [
      { timeUs: 5, name: 'retry', attributes: { attempt: 2 } },
      { timeUs: 6, name: 'bare', attributes: {} },
    ]);
    assert.deepEqual(full.links, [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: {} }]);
    assert.equal(full.resource['host.name'], 'web-1');
    assert.equal(full.resource['deployment.environment'], 'test', 'process resource wins on a clash');
    assert.deepEqual([full.status, full.statusMessage, full.rpcid, full.scope, full.scopeVersion], ['error', 'boom', '0.1.2', '@linktrace/http', '1.0.0']);
    assert.deepEqual([full.remoteService, full.remoteAddress, full.remotePort], ['db', '10.0.0.9', 5432]);
    assert.equal(started.durationUs, null);
    assert.equal(started.startRecord, true);
    assert.equal(started.resource[ATTR.droppedSpans], 4);
    await exporter.shutdown();
    assert.equal((await exporter.export([makeSpan(4)], res(0))).code, 'failed', 'after shutdown');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('disk errors are failed results, never exceptions, and the exporter recovers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lt-jsonl-'));
  try {
    // The path is a directory: EISDIR.
    const onDir = jsonLinesFileExporter({ path: dir });
    const r1 = await onDir.export([makeSpan(1)], res(0));
    assert.equal(r1.code, 'failed');
    assert.match(r1.code === 'failed' ? r1.error.message : '', /cannot append/);
    // A parent that is a file: ENOTDIR on mkdir; once the file is gone, exporting works again.
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'x');
    const exporter = jsonLinesFileExporter({ path: join(blocker, 'spans.jsonl') });
    assert.equal((await exporter.export([makeSpan(1)], res(0))).code, 'failed');
    await rm(blocker);
    assert.equal((await exporter.export([makeSpan(2)], res(0))).code, 'success');
    const lines = (await readFile(join(blocker, 'spans.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 1);
    // A span that cannot be serialised fails the batch instead of throwing.
    const bad = makeSpan(3, { startUs: Number.NaN });
    assert.equal((await exporter.export([bad], res(0))).code, 'failed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(() => jsonLinesFileExporter({ path: '' }), TypeError);
});
