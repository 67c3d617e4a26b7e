import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Span } from '@linktrace/model';
import { TraceBuffer } from '../src/trace-buffer.js';
import { checkTrace } from '../src/check-trace.js';
import { compactSpan } from '../src/check-span.js';
import { shopSync } from './shop-sync.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TRACES = 1500;
const SPANS_PER_TRACE = 10;

let seed = 0x9e3779b9;
/** `bytes` random bytes as lowercase hex, a fresh flat string each call (as a decoder makes ids). */
function hex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    out += ((seed >>> 0) & 0xff).toString(16).padStart(2, '0');
  }
  // Flatten the concatenation, as a decoder's string is flat.
  return Buffer.from(out, 'latin1').toString('latin1');
}

/** A span as a receiver decodes it: ten attributes, a resource, an event, fresh strings throughout. */
function decodedSpan(traceId: string, i: number, parent: string | undefined): Span {
  const stage = i % 3 === 0;
  const attributes: Record<string, string | number> = {
    'http.method': 'POST',
    'http.route': `/api/shops/${i}`,
    'http.status_code': 200,
    'http.url': `https://shop.example.com/api/shops/${hex(6)}?page=${i}`,
    'user.id': `user-${hex(4)}`,
    'db.statement': `UPDATE user_shop SET name = ? WHERE id = ${i} /* ${hex(8)} */`,
    'messaging.message.id': hex(12),
    'shop.id': String(i * 7),
    'net.peer.name': `db-${i % 5}.internal`,
    'thread.name': `worker-${i % 8}`,
  };
  if (stage) {
    attributes['linktrace.stage'] = 'write';
    attributes['linktrace.entity.type'] = 'shop';
    attributes['linktrace.entity.key'] = String(i * 7);
    attributes['linktrace.entity.version'] = i;
    attributes['linktrace.target'] = 'mysql:user_shop';
  }
  const span: Span = {
    traceId: `${traceId}`.slice(0),
    spanId: hex(8),
    rpcid: i === 0 ? '0' : `0.${i}`,
    service: `sync-worker-${i % 3}`,
    instance: '10.0.0.7:8080',
    name: `UPDATE user_shop ${i % 4}`,
    kind: 'client',
    startUs: 1_700_000_000_000_000 + i * 1000,
    durationUs: 900,
    status: { code: 'ok' },
    attributes,
    events: [{ timeUs: 1_700_000_000_000_100 + i, name: 'retry', attributes: { attempt: 1, reason: `timeout ${hex(4)}` } }],
    links: [],
    resource: { 'host.name': `host-${hex(3)}`, 'process.pid': 4242, 'telemetry.sdk.name': 'opentelemetry', 'service.version': '1.4.2' },
  };
  if (parent !== undefined) span.parentSpanId = parent;
  return span;
}

function traceOf(): Span[] {
  const traceId = hex(16);
  const spans: Span[] = [];
  for (let i = 0; i < SPANS_PER_TRACE; i++) spans.push(decodedSpan(traceId, i, spans[0]?.spanId));
  return spans;
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('TraceBuffer memory', () => {
  it('holds a compact span: bytes per buffered span are a fraction of the decoded span', () => {
    const buffer = new TraceBuffer({ maxOpenTraces: TRACES });
    let base = heap();
    // Batches are built, added and dropped, as the pipeline does: only what the buffer keeps stays.
    for (let t = 0; t < TRACES; t += 50) {
      const batch: Span[] = [];
      for (let k = 0; k < 50; k++) for (const s of traceOf()) batch.push(s);
      buffer.add(batch, t);
    }
    const compactBytes = (heap() - base) / (TRACES * SPANS_PER_TRACE);
    assert.equal(buffer.stats().openSpans, TRACES * SPANS_PER_TRACE);

    // Whole decoded spans, held as the buffer held them before, for comparison.
    const held: Span[][] = [];
    base = heap();
    for (let t = 0; t < TRACES; t++) held.push(traceOf());
    const wholeBytes = (heap() - base) / (TRACES * SPANS_PER_TRACE);
    console.log(`# bytes per span: decoded ${Math.round(wholeBytes)}, buffered ${Math.round(compactBytes)}`);
    assert.ok(wholeBytes > 900, `a decoded span takes ${wholeBytes} bytes (the comparison needs whole spans)`);
    // Generous: a compact span measures ~200 bytes; a whole one over 1 000.
    assert.ok(compactBytes < 400, `a buffered span takes ${compactBytes} bytes`);
    assert.ok(held.length === TRACES && buffer.stats().openTraces === TRACES);
  });

  it('compact spans are judged exactly as whole spans', () => {
    const nowUs = 1_700_000_100_000_000;
    const spans = shopSync();
    // Break the chain in several ways: a failed write with a message, a start record and its full
    // record, a span whose rpcid comes from the attribute only, a link.
    const broken = spans.map((s, i) => (i === 3 ? { ...s, status: { code: 'error' as const, message: 'ER_LOCK_DEADLOCK' } } : s));
    const start = { ...broken[2]!, durationUs: undefined } as unknown as Span;
    const viaAttr = { ...broken[4]!, rpcid: undefined, attributes: { ...broken[4]!.attributes, 'linktrace.rpcid': broken[4]!.rpcid! } } as unknown as Span;
    const input = [start, ...broken.slice(0, 4), viaAttr, ...broken.slice(5)];
    const whole = checkTrace(input, { deadlineMs: 1000, slowChainObjectiveMs: 1 }, nowUs);
    const compact = checkTrace(input.map((s) => compactSpan(s)), { deadlineMs: 1000, slowChainObjectiveMs: 1 }, nowUs);
    assert.ok(whole.length > 0);
    assert.deepEqual(compact, whole);
    const c = compactSpan(input[1]!);
    assert.deepEqual(c.events, []);

    // Zipkin spans of unknown length (no duration) or start (no timestamp) keep what they are.
    const zipkin = shopSync().map((s, i) => {
      const z: Span = { ...s };
      if (i % 2 === 0) {
        delete z.durationUs;
        z.durationUnknown = true;
      } else {
        z.startUs = 0;
        z.startUnknown = true;
      }
      return z;
    });
    const options = { deadlineMs: 1000, slowChainObjectiveMs: 1 };
    assert.deepEqual(checkTrace(zipkin, options, nowUs), []);
    assert.deepEqual(checkTrace(zipkin.map((s) => compactSpan(s)), options, nowUs), []);
    assert.equal(c.resource, undefined);
    assert.ok(Object.keys(c.attributes).every((k) => k.startsWith('linktrace.')), Object.keys(c.attributes).join());
  });
});
