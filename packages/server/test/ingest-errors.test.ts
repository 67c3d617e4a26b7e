import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeNativeJson, encodeOtlpJson, encodeZipkinJson, type Span } from '@linktrace/model';
import { ERROR_CODES } from '../src/errors.js';
import { errorCode, get, post, withApp } from './ingest-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };
const ROUTES = ['/v1/traces', '/api/v2/spans', '/api/v1/spans'];

function span(i: number, attributes: Span['attributes'] = {}): Span {
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: (0x1000 + i).toString(16).padStart(16, '0'),
    service: 'svc',
    name: `op-${i}`,
    kind: 'server',
    startUs: 1_700_000_000_000_000 + i,
    durationUs: 100,
    status: { code: 'unset' },
    attributes,
    events: [],
    links: [],
  };
}

/** The same spans in each route's format. */
function bodies(spans: Span[]): Record<string, string> {
  return {
    '/v1/traces': JSON.stringify(encodeOtlpJson(spans)),
    '/api/v2/spans': JSON.stringify(encodeZipkinJson(spans)),
    '/api/v1/spans': JSON.stringify(encodeNativeJson(spans)),
  };
}

async function expectError(
  answer: Promise<{ status: number; json(): unknown; body: Buffer; headers: Headers }>,
  status: number,
  code: string,
  label: string,
): Promise<void> {
  const a = await answer;
  assert.equal(a.status, status, `${label}: ${a.body.toString('utf8').slice(0, 200)}`);
  assert.match(a.headers.get('content-type') ?? '', /^application\/json/, label);
  assert.equal(errorCode(a), code, label);
}

describe('ingest errors: one JSON error shape from the one table', () => {
  it('unknown routes and methods are 404 not_found', async () => {
    await withApp({}, async ({ url }) => {
      await expectError(get(`${url}/nope`), 404, 'not_found', 'GET /nope');
      await expectError(get(`${url}/v1/traces`), 404, 'not_found', 'GET /v1/traces');
      await expectError(post(`${url}/v1/nothing`, '{}', JSON_TYPE), 404, 'not_found', 'POST /v1/nothing');
    });
  });

  it('content types: text/plain or none is 415 unsupported_media_type; protobuf only on /v1/traces', async () => {
    await withApp({}, async ({ url }) => {
      for (const route of ROUTES) {
        await expectError(post(`${url}${route}`, '[]', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type', `${route} text/plain`);
        const res = await fetch(`${url}${route}`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
        const body = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 415, `${route} without Content-Type: ${body.toString()}`);
      }
      await expectError(post(`${url}/api/v2/spans`, new Uint8Array([10, 0]), PROTO_TYPE), 415, 'unsupported_media_type', 'zipkin proto');
      await expectError(post(`${url}/api/v1/spans`, new Uint8Array([10, 0]), PROTO_TYPE), 415, 'unsupported_media_type', 'native proto');
    });
  });

  it('bodies: bad JSON is invalid_json, the wrong shape is invalid_payload, protobuf garbage is invalid_payload', async () => {
    await withApp({}, async ({ app, url }) => {
      for (const route of ROUTES) {
        await expectError(post(`${url}${route}`, '{"resourceSpans": [', JSON_TYPE), 400, 'invalid_json', `${route} truncated JSON`);
        await expectError(post(`${url}${route}`, '', JSON_TYPE), 400, 'invalid_json', `${route} empty body`);
        await expectError(post(`${url}${route}`, '"just a string"', JSON_TYPE), 400, 'invalid_payload', `${route} a string`);
      }
      // Zipkin takes a lone span object as a list of one: this one is a span without any valid field.
      await expectError(post(`${url}/api/v2/spans`, '{"spans": []}', JSON_TYPE), 400, 'invalid_spans', 'zipkin object');
      await expectError(post(`${url}/v1/traces`, '[1, 2]', JSON_TYPE), 400, 'invalid_payload', 'otlp array');
      await expectError(post(`${url}/api/v1/spans`, '{"spans": []}', JSON_TYPE), 400, 'invalid_payload', 'native without format');
      await expectError(post(`${url}/v1/traces`, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), PROTO_TYPE), 400, 'invalid_payload', 'truncated protobuf');
      assert.equal(app.linktrace.wal.stats().records, 0, 'nothing rejected reaches the log');
    });
  });

  it('sizes: a body over the limit is 413; a gzip bomb is 413, not an out-of-memory', async () => {
    await withApp({ limits: { maxRequestBytes: 64 * 1024, maxDecompressedBytes: 1024 * 1024 } }, async ({ url }) => {
      const big = JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(70 * 1024) });
      for (const route of ROUTES) {
        await expectError(post(`${url}${route}`, big, JSON_TYPE), 413, 'payload_too_large', `${route} oversized`);
      }
      // 256 MB of spaces compress to ~250 KB: over the wire limit too, so use 50 MB (~50 KB of gzip).
      const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20), { level: 9 });
      assert.ok(bomb.length < 64 * 1024, `bomb is ${bomb.length} bytes`);
      const before = process.memoryUsage().rss;
      for (const route of ROUTES) {
        await expectError(post(`${url}${route}`, bomb, { ...JSON_TYPE, 'content-encoding': 'gzip' }), 413, 'payload_too_large', `${route} gzip bomb`);
      }
      const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
      assert.ok(grown < 40, `RSS grew ${grown.toFixed(1)} MB decompressing three bombs`);
    });
  });

  it('encodings: corrupt gzip is invalid_encoding, br is unsupported_encoding', async () => {
    await withApp({}, async ({ url }) => {
      const zipped = gzipSync('[]');
      const corrupt = Buffer.concat([zipped.subarray(0, 12), Buffer.from('garbage!')]);
      for (const route of ROUTES) {
        await expectError(post(`${url}${route}`, corrupt, { ...JSON_TYPE, 'content-encoding': 'gzip' }), 400, 'invalid_encoding', `${route} corrupt gzip`);
        await expectError(post(`${url}${route}`, Buffer.from('not gzip at all'), { ...JSON_TYPE, 'content-encoding': 'gzip' }), 400, 'invalid_encoding', `${route} plain as gzip`);
        await expectError(post(`${url}${route}`, '[]', { ...JSON_TYPE, 'content-encoding': 'br' }), 415, 'unsupported_encoding', `${route} br`);
      }
    });
  });

  it('limits: spans per request, attributes per map and value length each have their code', async () => {
    const limits = { maxSpansPerRequest: 3, maxAttributesPerSpan: 4, maxAttributeValueLength: 16 };
    await withApp({ limits }, async ({ app, store, url }) => {
      const cases: [string, Span[], number, string][] = [
        ['4 spans', [span(1), span(2), span(3), span(4)], 413, 'too_many_spans'],
        ['5 attributes', [span(1, { a: 1, b: 2, c: 3, d: 4, e: 5 })], 400, 'too_many_attributes'],
        ['long string', [span(1, { a: 'x'.repeat(17) })], 400, 'attribute_too_large'],
        ['long array item', [span(1, { a: ['ok', 'y'.repeat(17)] })], 400, 'attribute_too_large'],
        ['event attributes', [{ ...span(1), events: [{ timeUs: 1_700_000_000_000_001, name: 'e', attributes: { a: 1, b: 2, c: 3, d: 4, e: 5 } }] }], 400, 'too_many_attributes'],
      ];
      for (const [label, spans, status, code] of cases) {
        const all = bodies(spans);
        for (const route of ROUTES) {
          // Zipkin has no events: its annotations carry no attributes.
          if (label === 'event attributes' && route === '/api/v2/spans') continue;
          await expectError(post(`${url}${route}`, all[route], JSON_TYPE), status, code, `${route} ${label}`);
        }
      }
      const within = bodies([span(1, { a: 'x'.repeat(16), b: 1, c: true, d: [1, 2] }), span(2), span(3)]);
      for (const route of ROUTES) assert.ok((await post(`${url}${route}`, within[route], JSON_TYPE)).status < 300, `${route} at the limits`);
      await app.linktrace.pipeline.idle();
      assert.equal(store.spans.size, 3);
    });
  });

  it('native: every span rejected is 400 invalid_spans', async () => {
    await withApp({}, async ({ url }) => {
      const body = JSON.stringify({ format: 'linktrace/1', spans: [{ traceId: 'x' }, 7] });
      await expectError(post(`${url}/api/v1/spans`, body, JSON_TYPE), 400, 'invalid_spans', 'native all bad');
    });
  });
});

describe('docs/errors.md', () => {
  it('documents every code of the error table, and no other', () => {
    const path = fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url));
    const text = readFileSync(path, 'utf8');
    const documented = [...text.matchAll(/^## `([a-z_]+)`/gm)].map((m) => m[1]);
    for (const code of Object.keys(ERROR_CODES)) {
      assert.ok(documented.includes(code), `docs/errors.md has no "## \`${code}\`" section`);
      const section = text.split(`## \`${code}\``)[1].split(/^## /m)[0];
      const status = String(ERROR_CODES[code as keyof typeof ERROR_CODES].status);
      assert.ok(section.includes(status), `the ${code} section states its HTTP status ${status}`);
    }
    for (const code of documented) assert.ok(code in ERROR_CODES, `docs/errors.md documents ${code}, which is not in src/errors.ts`);
  });
});
