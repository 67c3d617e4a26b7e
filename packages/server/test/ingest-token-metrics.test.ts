import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import assert from 'node:assert/strict';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { errorCode, get, post, withApp } from './ingest-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const TOKEN = 's3cret-token';

function body(traceHex: string, n = 2): string {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    spans.push({
      traceId: traceHex.padStart(32, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      service: 'svc',
      name: 'op',
      kind: 'server',
      startUs: 1_700_000_000_000_000,
      durationUs: 10,
      status: { code: 'ok' },
      attributes: {},
      events: [],
      links: [],
    });
  }
  return JSON.stringify(encodeNativeJson(spans));
}

/** A stand-in for the query API, plugged in the way the real one is. */
function extraRoutes(app: FastifyInstance): void {
  app.get('/api/v1/ping', () => ({ pong: true }));
}

describe('--token', () => {
  it('guards ingest, query, metrics and unknown routes with Bearer auth; /healthz stays open', async () => {
    await withApp({ token: TOKEN, extraRoutes }, async ({ app, store, url }) => {
      const routes = ['/v1/traces', '/api/v2/spans', '/api/v1/spans'];
      for (const route of routes) {
        const none = await post(`${url}${route}`, '[]', JSON_TYPE);
        assert.equal(none.status, 401, route);
        assert.equal(errorCode(none), 'unauthorized');
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
        const wrong = await post(`${url}${route}`, '[]', { ...JSON_TYPE, authorization: 'Bearer nope' });
        assert.equal(wrong.status, 401, `${route} wrong token`);
        const almost = await post(`${url}${route}`, '[]', { ...JSON_TYPE, authorization: `Bearer ${TOKEN}x` });
        assert.equal(almost.status, 401, `${route} longer token`);
        const basic = await post(`${url}${route}`, '[]', { ...JSON_TYPE, authorization: `Basic ${TOKEN}` });
        assert.equal(basic.status, 401, `${route} other scheme`);
      }
      const good = await post(`${url}/api/v1/spans`, body('a1'), { ...JSON_TYPE, authorization: `Bearer ${TOKEN}` });
      assert.equal(good.status, 200);
      const lower = await post(`${url}/api/v1/spans`, body('a2'), { ...JSON_TYPE, authorization: `bearer ${TOKEN}` });
      assert.equal(lower.status, 200, 'the scheme is case-insensitive');

      assert.equal((await get(`${url}/api/v1/ping`)).status, 401, 'query routes are guarded');
      assert.equal((await get(`${url}/api/v1/ping`, { authorization: `Bearer ${TOKEN}` })).status, 200);
      assert.equal((await get(`${url}/metrics`)).status, 401);
      assert.equal((await get(`${url}/metrics`, { authorization: `Bearer ${TOKEN}` })).status, 200);
      assert.equal((await get(`${url}/nope`)).status, 401, 'no route discovery without the token');
      assert.equal((await get(`${url}/nope`, { authorization: `Bearer ${TOKEN}` })).status, 404);
      assert.equal((await get(`${url}/healthz`)).status, 200, '/healthz needs no token');

      await app.linktrace.pipeline.idle();
      assert.equal(store.spans.size, 4, 'only the authorized requests were stored');
    });
  });

  it('without a token every route is open', async () => {
    await withApp({ extraRoutes }, async ({ url }) => {
      assert.equal((await post(`${url}/api/v1/spans`, body('b1'), JSON_TYPE)).status, 200);
      assert.equal((await get(`${url}/api/v1/ping`)).status, 200);
      assert.equal((await get(`${url}/metrics`)).status, 200);
    });
  });
});

/** `name{labels} value` lines of a Prometheus text page. */
function sample(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === `${name}${labels}`) return Number(line.slice(space + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('counts received, rejected by reason, stored, errors by code, queue depth, WAL, and request latency per route', async () => {
    await withApp({ limits: { maxSpansPerRequest: 5 } }, async ({ app, url }) => {
      assert.equal((await post(`${url}/api/v1/spans`, body('c1', 3), JSON_TYPE)).status, 200);
      assert.equal((await post(`${url}/api/v1/spans`, body('c2', 6), JSON_TYPE)).status, 413);
      const mixed = JSON.stringify({ format: 'linktrace/1', spans: [JSON.parse(body('c3', 1)).spans[0] as unknown, { traceId: 'bad' }] });
      assert.equal((await post(`${url}/api/v1/spans`, mixed, JSON_TYPE)).status, 200);
      assert.equal((await post(`${url}/api/v2/spans`, '{', JSON_TYPE)).status, 400);
      await app.linktrace.pipeline.idle();

      const page = await get(`${url}/metrics`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/plain/);
      const text = page.body.toString();
      assert.equal(sample(text, 'linktrace_spans_received_total', '{receiver="native"}'), 3 + 6 + 2);
      assert.equal(sample(text, 'linktrace_spans_rejected_total', '{receiver="native",reason="too_many_spans"}'), 6);
      assert.equal(sample(text, 'linktrace_spans_rejected_total', '{receiver="native",reason="invalid_span"}'), 1);
      assert.equal(sample(text, 'linktrace_spans_stored_total'), 4);
      assert.equal(sample(text, 'linktrace_http_errors_total', '{code="too_many_spans"}'), 1);
      assert.equal(sample(text, 'linktrace_http_errors_total', '{code="invalid_json"}'), 1);
      assert.equal(sample(text, 'linktrace_queue_spans'), 0);
      assert.equal(sample(text, 'linktrace_wal_records_total'), 2);
      assert.ok((sample(text, 'linktrace_wal_fsyncs_total') ?? 0) >= 1);
      assert.ok((sample(text, 'linktrace_wal_bytes') ?? 0) > 0);
      assert.equal(sample(text, 'linktrace_wal_segments'), 1);
      assert.equal(sample(text, 'linktrace_http_request_duration_seconds_count', '{method="POST",route="/api/v1/spans",status="200"}'), 2);
      assert.equal(sample(text, 'linktrace_http_request_duration_seconds_count', '{method="POST",route="/api/v1/spans",status="413"}'), 1);
      assert.equal(sample(text, 'linktrace_http_request_duration_seconds_count', '{method="POST",route="/api/v2/spans",status="400"}'), 1);
      assert.ok((sample(text, 'linktrace_http_request_duration_seconds_sum', '{method="POST",route="/api/v1/spans",status="200"}') ?? -1) > 0);
    });
  });

  it('the queue depth gauge shows a backlog while the store is behind', async () => {
    const { MemoryStore } = await import('./memory-store.js');
    const store = new MemoryStore();
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    store.gate = () => opened;
    await withApp({ store }, async ({ app, url }) => {
      assert.equal((await post(`${url}/api/v1/spans`, body('d1', 4), JSON_TYPE)).status, 200);
      assert.equal(sample((await get(`${url}/metrics`)).body.toString(), 'linktrace_queue_spans'), 4);
      open();
      await app.linktrace.pipeline.idle();
      assert.equal(sample((await get(`${url}/metrics`)).body.toString(), 'linktrace_queue_spans'), 0);
    });
  });
});
