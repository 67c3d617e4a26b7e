/**
 * Issue 11 item 9: spans that start more than --max-future (default 1 h) after the server's clock are
 * refused at the receivers, with the reason told to the sender and counted per reason on /metrics;
 * skew within the window is accepted as before. The server's clock is injected.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { encodeNativeJson, encodeOtlpJson, encodeOtlpProto, encodeZipkinJson, type Span } from '@linktrace/model';
import { buildApp } from '../src/app.js';
import { errorCode, get, post, tempDir, withApp } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };
/** The injected clock: 2026-01-01T00:00:00Z. */
const NOW_MS = Date.UTC(2026, 0, 1);
const clock = (): number => NOW_MS;
const TRACE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const YEAR_2255_US = Date.UTC(2255, 0, 1) * 1000;

function span(id: number, startUs: number): Span {
  return {
    traceId: TRACE,
    spanId: (0x3000 + id).toString(16).padStart(16, '0'),
    service: 'svc',
    name: `op-${id}`,
    kind: 'server',
    startUs,
    durationUs: 1000,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  };
}

/** One span now, one 59 minutes ahead (skew within the window), one in 2255. */
function batch(): Span[] {
  return [span(1, NOW_MS * 1000), span(2, (NOW_MS + 59 * 60_000) * 1000), span(3, YEAR_2255_US)];
}

function sample(text: string, name: string, labels: string): number | undefined {
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === `${name}${labels}`) return Number(line.slice(space + 1));
  }
  return undefined;
}

const FUTURE = /span 0000000000003003 refused \(future_start\): it starts at 2255-01-01T00:00:00\.000Z, more than 1 h after the server's clock \(2026-01-01T00:00:00\.000Z\)/;

describe('spans starting too far in the future', () => {
  it('OTLP JSON and protobuf: 200 with partial success naming the refused span; the others are stored; counted by reason', async () => {
    await withApp({ clock }, async ({ app, store, url }) => {
      const json = await post(`${url}/v1/traces`, JSON.stringify(encodeOtlpJson(batch())), JSON_TYPE);
      assert.equal(json.status, 200);
      const body = json.json() as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
      assert.equal(body.partialSuccess.rejectedSpans, 1);
      assert.match(body.partialSuccess.errorMessage, FUTURE);
      const proto = await post(`${url}/v1/traces`, encodeOtlpProto(batch()), PROTO_TYPE);
      assert.equal(proto.status, 200);
      assert.match(proto.body.toString('latin1'), /future_start/, 'the protobuf answer carries the partial success message');
      await app.linktrace.pipeline.idle();
      assert.ok(store.hasSpan(TRACE, '0000000000003001'));
      assert.ok(store.hasSpan(TRACE, '0000000000003002'), 'skew within the window is accepted');
      assert.ok(!store.hasSpan(TRACE, '0000000000003003'));
      const metrics = (await get(`${url}/metrics`)).body.toString();
      assert.equal(sample(metrics, 'linktrace_spans_rejected_total', '{receiver="otlp",reason="future_start"}'), 2);
    });
  });

  it('Zipkin: 202 keeping the rest; all of them too far ahead: 400 invalid_spans saying why', async () => {
    await withApp({ clock }, async ({ app, store, url }) => {
      const some = await post(`${url}/api/v2/spans`, JSON.stringify(encodeZipkinJson(batch())), JSON_TYPE);
      assert.equal(some.status, 202);
      const all = await post(`${url}/api/v2/spans`, JSON.stringify(encodeZipkinJson([span(4, YEAR_2255_US)])), JSON_TYPE);
      assert.equal(all.status, 400);
      assert.equal(errorCode(all), 'invalid_spans');
      assert.match((all.json() as { error: { message: string } }).error.message, /future_start/);
      await app.linktrace.pipeline.idle();
      assert.equal(store.spans.size, 2);
      const metrics = (await get(`${url}/metrics`)).body.toString();
      assert.equal(sample(metrics, 'linktrace_spans_rejected_total', '{receiver="zipkin",reason="future_start"}'), 2);
    });
  });

  it('native: accepted and rejected counts with the reason; --max-future narrows the window', async () => {
    await withApp({ clock, limits: { maxFutureMs: 60_000 } }, async ({ app, store, url }) => {
      const answer = await post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(batch())), JSON_TYPE);
      assert.equal(answer.status, 200);
      const body = answer.json() as { accepted: number; rejected: number; errors: string[] };
      assert.equal(body.accepted, 1);
      assert.equal(body.rejected, 2, 'with a 1 min window, 59 minutes ahead is too far too');
      assert.match(body.errors.join('\n'), /span 0000000000003002 refused \(future_start\): .* more than 1 min after/);
      await app.linktrace.pipeline.idle();
      assert.deepEqual([...store.spans.values()].map((s) => s.spanId), ['0000000000003001']);
    });
  });

  it('a refused span does not come back when the write-ahead log is replayed later', async () => {
    const dataDir = await tempDir();
    try {
      const down = new MemoryStore();
      down.failure = new Error('store down');
      const first = await buildApp({ store: down, dataDir, clock, shutdownTimeoutMs: 100 });
      const url = await first.listen({ host: '127.0.0.1', port: 0 });
      const answer = await post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(batch())), JSON_TYPE);
      assert.equal(answer.status, 200);
      await first.close();
      // Started again long after (the 2255 span would now be within any window): only what was accepted is replayed.
      const store = new MemoryStore();
      const second = await buildApp({ store, dataDir, clock: () => Date.UTC(2255, 0, 1) });
      try {
        await second.linktrace.pipeline.idle();
        assert.deepEqual([...store.spans.values()].map((s) => s.spanId).sort(), ['0000000000003001', '0000000000003002']);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
