/**
 * Property-based: random and mutated payloads on every receiver get a 2xx or a 4xx with the JSON error
 * body of the one table — never a 5xx, never a crash — and whatever is accepted is a valid span.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeOtlpJson, decodeZipkinJson, encodeNativeJson, encodeOtlpProto, validateSpan } from '@linktrace/model';
import { ERROR_CODES } from '../src/errors.js';
import { get, post, readFixture, withApp, type Answer } from './ingest-helpers.js';

const RUNS = 150;
const JSON_ROUTES = ['/v1/traces', '/api/v2/spans', '/api/v1/spans'] as const;

function checkAnswer(a: Answer, label: string): void {
  assert.ok(a.status < 500, `${label}: ${a.status} ${a.body.toString('utf8').slice(0, 300)}`);
  if (a.status >= 400) {
    const body = a.json() as { error?: { code?: string; message?: string } };
    assert.ok(body.error !== undefined && typeof body.error.code === 'string' && body.error.code in ERROR_CODES, `${label}: error body ${a.body.toString('utf8').slice(0, 300)}`);
    assert.equal(ERROR_CODES[body.error.code as keyof typeof ERROR_CODES].status, a.status, `${label}: status of ${body.error.code}`);
    assert.ok(typeof body.error.message === 'string' && body.error.message.length > 0);
  }
}

async function send(url: string, route: string, body: Uint8Array | string, type: string, gzip: boolean): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': type };
  if (gzip) headers['content-encoding'] = 'gzip';
  return post(`${url}${route}`, gzip ? gzipSync(body) : body, headers);
}

/** Values that break naive decoders: huge and negative numbers, wrong types, empty and long strings. */
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(1e308, -1, -0.5, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, 0, '', 'NaN', '-1', null, [], {}, true, '0'.repeat(64), 'Z'.repeat(40)),
  fc.string({ maxLength: 40 }),
);

/** Text spliced into JSON as is: numbers JSON.parse turns into Infinity, -0 or imprecise integers. */
const RAW_NUMBERS = ['1e400', '-1e400', '-0', '123456789012345678901234567890', '9007199254740993', '1.5e-400'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to an array or object member, so one can be replaced. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  const children: [string | number, Json][] = Array.isArray(v) ? v.map((item, i) => [i, item]) : v !== null && typeof v === 'object' ? Object.entries(v) : [];
  for (const [key, child] of children) {
    out.push([...prefix, key]);
    paths(child, [...prefix, key], out);
  }
  return out;
}

function replaceAt(root: Json, path: (string | number)[], value: Json): Json {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, Json>;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]] as Record<string | number, Json>;
  node[path[path.length - 1]] = value;
  return copy;
}

const otlpJson = JSON.parse(readFixture('otlp/example-trace.json').toString('utf8')) as Json;
const zipkinJson = JSON.parse(readFixture('zipkin/messaging.json').toString('utf8')) as Json;
const otlpSpans = decodeOtlpJson(otlpJson).spans;
const nativeJson = JSON.parse(JSON.stringify(encodeNativeJson([...otlpSpans, ...decodeZipkinJson(zipkinJson).spans]))) as Json;
const BASES: Record<(typeof JSON_ROUTES)[number], Json> = { '/v1/traces': otlpJson, '/api/v2/spans': zipkinJson, '/api/v1/spans': nativeJson };
const PROTO = Buffer.from(encodeOtlpProto(otlpSpans));

describe('ingest never answers 5xx', () => {
  it('random bytes, JSON values and mutated payloads on every receiver; accepted spans are valid', async () => {
    await withApp({ limits: { maxRequestBytes: 256 * 1024 } }, async ({ app, store, url }) => {
      const route = fc.constantFrom(...JSON_ROUTES);

      await fc.assert(
        fc.asyncProperty(route, fc.uint8Array({ maxLength: 1500 }), fc.boolean(), fc.boolean(), async (r, bytes, proto, gzip) => {
          const type = proto ? 'application/x-protobuf' : 'application/json';
          checkAnswer(await send(url, r, bytes, type, gzip), `bytes to ${r} as ${type}`);
        }),
        { numRuns: RUNS },
      );

      await fc.assert(
        fc.asyncProperty(route, fc.jsonValue({ maxDepth: 6 }), async (r, value) => {
          checkAnswer(await send(url, r, JSON.stringify(value) ?? 'null', 'application/json', false), `json to ${r}`);
        }),
        { numRuns: RUNS },
      );

      await fc.assert(
        fc.asyncProperty(route, fc.nat(), nasty, fc.option(fc.constantFrom(...RAW_NUMBERS)), fc.boolean(), async (r, pick, value, raw, gzip) => {
          const base = BASES[r];
          const all = paths(base);
          const path = all[pick % all.length];
          const marker = '__raw_number_marker__';
          let text = JSON.stringify(replaceAt(base, path, raw === null ? (value as Json) : marker));
          if (raw !== null) text = text.replace(`"${marker}"`, raw);
          checkAnswer(await send(url, r, text, 'application/json', gzip), `mutated ${r} at ${path.join('.')}`);
        }),
        { numRuns: RUNS * 2 },
      );

      const byteEdit = fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
        fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }),
        fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(byteEdit, { minLength: 1, maxLength: 4 }), fc.boolean(), async (edits, gzip) => {
          let buf = Buffer.from(PROTO);
          for (const e of edits) {
            const at = e.at % Math.max(1, buf.length);
            if (e.op === 'flip' && buf.length > 0) buf[at] ^= 1 << e.bit;
            if (e.op === 'insert') buf = Buffer.concat([buf.subarray(0, at), e.bytes, buf.subarray(at)]);
            if (e.op === 'delete') buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + e.count)]);
            if (e.op === 'truncate') buf = buf.subarray(0, at);
          }
          checkAnswer(await send(url, '/v1/traces', buf, 'application/x-protobuf', gzip), `mutated protobuf ${JSON.stringify(edits.map((e) => e.op))}`);
        }),
        { numRuns: RUNS * 2 },
      );

      await app.linktrace.pipeline.idle();
      assert.ok(store.spans.size > 0, 'some mutated payloads were still valid and accepted');
      for (const span of store.spans.values()) assert.equal(validateSpan(span), undefined, `accepted span ${span.spanId} is valid`);
      assert.equal((await get(`${url}/healthz`)).status, 200, 'the server is still healthy');
    });
  });

  it('deep nesting, gzip garbage and huge declared lengths are 4xx', async () => {
    await withApp({}, async ({ url }) => {
      const deepArray = '['.repeat(200_000) + ']'.repeat(200_000);
      for (const r of JSON_ROUTES) checkAnswer(await send(url, r, deepArray, 'application/json', false), `deep array to ${r}`);
      // An attribute value nested 5000 kvlists deep.
      let value = '{"stringValue":"x"}';
      for (let i = 0; i < 5000; i++) value = `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
      const otlp = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x","startTimeUnixNano":"1","attributes":[{"key":"deep","value":${value}}]}]}]}]}`;
      checkAnswer(await send(url, '/v1/traces', otlp, 'application/json', true), 'deep kvlist');
      // Protobuf fields declaring lengths far past the end of the body.
      checkAnswer(await send(url, '/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x12]), 'application/x-protobuf', false), 'huge length');
      checkAnswer(await send(url, '/v1/traces', Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'application/x-protobuf', false), 'long varint');
      // A valid gzip member followed by garbage, and gzip of gzip.
      const junk = Buffer.concat([gzipSync('[]'), Buffer.from('trailing junk')]);
      checkAnswer(await post(`${url}/api/v2/spans`, junk, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 'gzip + junk');
      checkAnswer(await send(url, '/api/v2/spans', gzipSync('[]'), 'application/json', true), 'gzip of gzip');
      assert.equal((await get(`${url}/healthz`)).status, 200);
    });
  });
});
