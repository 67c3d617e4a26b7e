import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { decodeOtlpJson, decodeZipkinJson, encodeNativeJson, encodeOtlpProto, type Span } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { FIXTURES, comparable, errorCode, fixtureFiles, post, readFixture, spanKey, withApp, withEmbeddedApp } from './ingest-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };

let responseType: protobuf.Type | undefined;
function otlpResponseType(): protobuf.Type {
  if (responseType !== undefined) return responseType;
  const root = new protobuf.Root();
  const base = `${FIXTURES}otlp/`;
  root.resolvePath = (origin, target) => (target.startsWith('opentelemetry/') ? base + target : protobuf.util.path.resolve(origin, target));
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  responseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
  return responseType;
}

/**
 * The records a store may return for each key: the full records when there are any, else the start
 * records (which of several the store keeps is its choice).
 */
function candidatesByKey(spans: readonly Span[]): Map<string, Span[]> {
  const out = new Map<string, Span[]>();
  for (const s of spans) {
    const key = spanKey(s);
    const list = out.get(key) ?? [];
    const full = list.some((c) => c.durationUs !== undefined);
    if (s.durationUs !== undefined && !full) out.set(key, [s]);
    else if ((s.durationUs !== undefined) === full || list.length === 0) out.set(key, [...list, s]);
  }
  return out;
}

/** Every decoded span reads back equal through the store's trace-by-id lookup. */
async function assertStored(store: SpanStore, spans: readonly Span[], label: string): Promise<void> {
  assert.ok(spans.length > 0, `${label}: the fixture decodes to spans`);
  const expected = candidatesByKey(spans);
  const traceIds = [...new Set(spans.map((s) => s.traceId))];
  const stored = new Map<string, Span>();
  for (const trace of await store.getTraces(traceIds)) {
    for (const s of trace) {
      const key = spanKey(s);
      assert.ok(!stored.has(key), `${label}: records of span ${key} are merged into one`);
      stored.set(key, s);
    }
  }
  for (const [key, candidates] of expected) {
    const got = stored.get(key);
    assert.ok(got !== undefined, `${label}: span ${key} stored`);
    const match = candidates.find((c) => {
      try {
        assert.deepEqual(comparable(got), comparable(c));
        return true;
      } catch {
        return false;
      }
    });
    if (match === undefined) assert.deepEqual(comparable(got), comparable(candidates[0]), `${label}: span ${key} reads back equal`);
  }
}

const OTLP_FIXTURES = ['otlp/example-trace.json', ...fixtureFiles('jaeger/traces')];

describe('receivers: every fixture ingests and reads back equal through the embedded store', () => {
  it('Zipkin v2 JSON fixtures on POST /api/v2/spans (plain and gzip) answer 202 and are stored', async () => {
    for (const gzip of [false, true]) {
      await withEmbeddedApp({}, async ({ app, store, url }) => {
        for (const file of fixtureFiles('zipkin')) {
          const raw = readFixture(file);
          const spans = decodeZipkinJson(JSON.parse(raw.toString('utf8'))).spans;
          const answer = await post(`${url}/api/v2/spans`, gzip ? gzipSync(raw) : raw, gzip ? { ...JSON_TYPE, 'content-encoding': 'gzip' } : JSON_TYPE);
          assert.equal(answer.status, 202, `${file}: ${answer.body.toString()}`);
          assert.equal(answer.body.length, 0);
          await app.linktrace.pipeline.idle();
          await assertStored(store, spans, `${file}${gzip ? ' (gzip)' : ''}`);
        }
      });
    }
  });

  it('OTLP JSON fixtures on POST /v1/traces (plain and gzip) answer 200 {} and are stored', async () => {
    for (const gzip of [false, true]) {
      await withEmbeddedApp({}, async ({ app, store, url }) => {
        for (const file of OTLP_FIXTURES) {
          const raw = readFixture(file);
          const spans = decodeOtlpJson(JSON.parse(raw.toString('utf8'))).spans;
          const answer = await post(`${url}/v1/traces`, gzip ? gzipSync(raw) : raw, gzip ? { ...JSON_TYPE, 'content-encoding': 'gzip' } : JSON_TYPE);
          assert.equal(answer.status, 200, `${file}: ${answer.body.toString()}`);
          assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
          assert.deepEqual(answer.json(), {});
          await app.linktrace.pipeline.idle();
          await assertStored(store, spans, `${file}${gzip ? ' (gzip)' : ''}`);
        }
      });
    }
  });

  it('the same fixtures re-encoded as OTLP protobuf (plain and gzip) answer an empty protobuf 200 and are stored', async () => {
    for (const gzip of [false, true]) {
      await withEmbeddedApp({}, async ({ app, store, url }) => {
        for (const file of OTLP_FIXTURES) {
          const spans = decodeOtlpJson(JSON.parse(readFixture(file).toString('utf8'))).spans;
          const bytes = encodeOtlpProto(spans);
          const answer = await post(`${url}/v1/traces`, gzip ? gzipSync(bytes) : bytes, gzip ? { ...PROTO_TYPE, 'content-encoding': 'gzip' } : PROTO_TYPE);
          assert.equal(answer.status, 200, `${file}: ${answer.body.toString()}`);
          assert.equal(answer.headers.get('content-type'), 'application/x-protobuf');
          assert.equal(answer.body.length, 0, 'full success is an empty ExportTraceServiceResponse');
          await app.linktrace.pipeline.idle();
          await assertStored(store, spans, `${file} (protobuf${gzip ? ', gzip' : ''})`);
        }
      });
    }
  });

  it('every fixture on the native route (linktrace/1 JSON, plain and gzip) answers 200 and is stored', async () => {
    for (const gzip of [false, true]) {
      await withEmbeddedApp({}, async ({ app, store, url }) => {
        for (const file of [...OTLP_FIXTURES, ...fixtureFiles('zipkin')]) {
          const body = JSON.parse(readFixture(file).toString('utf8')) as unknown;
          const spans = file.startsWith('zipkin/') ? decodeZipkinJson(body).spans : decodeOtlpJson(body).spans;
          const text = JSON.stringify(encodeNativeJson(spans));
          const answer = await post(`${url}/api/v1/spans`, gzip ? gzipSync(text) : text, gzip ? { ...JSON_TYPE, 'content-encoding': 'gzip' } : JSON_TYPE);
          assert.equal(answer.status, 200, `${file}: ${answer.body.toString()}`);
          assert.deepEqual(answer.json(), { accepted: spans.length, rejected: 0, errors: [] });
          await app.linktrace.pipeline.idle();
          await assertStored(store, spans, `${file} (native${gzip ? ', gzip' : ''})`);
        }
      });
    }
  });
});

describe('receivers: partial success and rejected spans', () => {
  const good = {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    name: 'good',
    kind: 2,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000001000000',
  };
  const bad = { ...good, traceId: 'not-hex', spanId: 'eee19b7ec3c1b175', name: 'bad' };
  const request = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans: [good, bad] }] }] };

  it('OTLP JSON: 200 with partialSuccess naming the rejected span; the good span is stored', async () => {
    await withApp({}, async ({ app, store, url }) => {
      const answer = await post(`${url}/v1/traces`, JSON.stringify(request), JSON_TYPE);
      assert.equal(answer.status, 200);
      const body = answer.json() as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
      assert.equal(body.partialSuccess.rejectedSpans, 1);
      assert.match(body.partialSuccess.errorMessage, /traceId/);
      await app.linktrace.pipeline.idle();
      assert.ok(store.hasSpan(good.traceId, good.spanId));
      assert.equal(store.spans.size, 1);
    });
  });

  it('OTLP protobuf: the partial success is a protobuf ExportTraceServiceResponse', async () => {
    await withApp({}, async ({ url }) => {
      // A span whose trace id is 4 bytes long: rejected by the decoder, the other kept.
      const spans = decodeOtlpJson({ resourceSpans: [{ scopeSpans: [{ spans: [good] }] }] }).spans;
      const type = otlpResponseType();
      const valid = encodeOtlpProto(spans);
      const requestType = type.root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
      const decoded = requestType.toObject(requestType.decode(valid), { bytes: Array }) as {
        resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
      };
      const first = decoded.resourceSpans[0].scopeSpans[0].spans[0];
      decoded.resourceSpans[0].scopeSpans[0].spans.push({ ...first, traceId: [1, 2, 3, 4], spanId: [1, 2, 3, 4, 5, 6, 7, 8] });
      const body = requestType.encode(requestType.fromObject(decoded)).finish();
      const answer = await post(`${url}/v1/traces`, body, PROTO_TYPE);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('content-type'), 'application/x-protobuf');
      const response = type.toObject(type.decode(answer.body), { longs: Number }) as { partialSuccess?: { rejectedSpans: number; errorMessage: string } };
      assert.equal(response.partialSuccess?.rejectedSpans, 1);
      assert.ok((response.partialSuccess?.errorMessage ?? '').length > 0);
    });
  });

  it('Zipkin: some spans rejected is still 202; all rejected is 400 invalid_spans', async () => {
    await withApp({}, async ({ app, store, url }) => {
      const ok = { traceId: '5b8efff798038103', id: '1111111111111111', name: 'get', timestamp: 1700000000000000, duration: 10, localEndpoint: { serviceName: 'a' } };
      const broken = { ...ok, id: 'zz' };
      const some = await post(`${url}/api/v2/spans`, JSON.stringify([ok, broken]), JSON_TYPE);
      assert.equal(some.status, 202);
      const all = await post(`${url}/api/v2/spans`, JSON.stringify([broken, broken]), JSON_TYPE);
      assert.equal(all.status, 400);
      assert.equal(errorCode(all), 'invalid_spans');
      await app.linktrace.pipeline.idle();
      assert.equal(store.spans.size, 1);
    });
  });

  it('an empty request is accepted and writes nothing', async () => {
    await withApp({}, async ({ app, url }) => {
      assert.equal((await post(`${url}/v1/traces`, '{}', JSON_TYPE)).status, 200);
      assert.equal((await post(`${url}/v1/traces`, new Uint8Array(0), PROTO_TYPE)).status, 200);
      assert.equal((await post(`${url}/api/v2/spans`, '[]', JSON_TYPE)).status, 202);
      assert.equal(app.linktrace.wal.stats().records, 0);
    });
  });
});
