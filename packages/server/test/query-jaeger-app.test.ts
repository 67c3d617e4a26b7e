import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { registerNativeQueryRoutes } from '../src/routes/query-native.js';
import { registerZipkinQueryRoutes } from '../src/routes/query-zipkin.js';
import { RecentSpans } from '../src/query/recent-spans.js';
import { FIXTURES, tempStore, type TempStore } from './query-test-support.js';
import { assertJaegerEnvelope, assertJaegerTrace } from './jaeger-shape.js';

const TOKEN = 'jaeger-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** The OTLP example fixture dates from 2018, the Zipkin ones from 2016-2019; the app's clock accepts them as history. */
const OTLP_TRACE = '5b8efff798038103d269b633813fc60c';
const ZIPKIN_FILE = 'zipkin/messaging-kafka.json';

let db: TempStore;
let app: FastifyInstance;
let zipkinTrace: string;

before(async () => {
  db = await tempStore();
  const store = db.store;
  app = await buildApp({ store, dataDir: db.dir, token: TOKEN, extraRoutes: (a) => registerQueryRoutes(a, { store }) });
  await app.ready();
  const otlp = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { ...AUTH, 'content-type': 'application/json' },
    payload: readFileSync(FIXTURES + 'otlp/example-trace.json'),
  });
  assert.equal(otlp.statusCode, 200, otlp.body);
  const zipkin = readFileSync(FIXTURES + ZIPKIN_FILE, 'utf8');
  zipkinTrace = (JSON.parse(zipkin) as { traceId: string }[])[0]!.traceId;
  const z = await app.inject({ method: 'POST', url: '/api/v2/spans', headers: { ...AUTH, 'content-type': 'application/json' }, payload: zipkin });
  assert.equal(z.statusCode, 202, z.body);
  // Ingest answers once the spans are in the write-ahead log; the store has them a moment later.
  for (let i = 0; i < 400; i++) {
    if ((await store.getTrace(OTLP_TRACE)).length > 0 && (await store.getTrace(zipkinTrace)).length > 0) break;
    await sleep(25);
  }
});

after(async () => {
  await app?.close();
  await db?.cleanup();
});

async function get(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: unknown }> {
  const res = await app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: JSON.parse(res.body) as unknown };
}

void test('spans ingested over OTLP/HTTP and Zipkin read back through the Jaeger API of the serve app', async () => {
  for (const id of [OTLP_TRACE, zipkinTrace]) {
    const { status, body } = await get(`/api/traces/${id}`);
    assert.equal(status, 200, JSON.stringify(body));
    assertJaegerEnvelope(body);
    const [trace] = (body as { data: { traceID: string; spans: unknown[] }[] }).data;
    assertJaegerTrace(trace);
    assert.equal(trace!.traceID, id);
    assert.equal(trace!.spans.length, (await db.store.getTrace(id)).length);
  }
  const services = await get('/api/services');
  assert.deepEqual((services.body as { data: string[] }).data, await db.store.services());
});

void test('the token applies to the Jaeger routes as to every query route', async () => {
  const routes = ['/api/services', '/api/services/x/operations', '/api/operations?service=x', '/api/traces?service=x', `/api/traces/${OTLP_TRACE}`, '/api/dependencies'];
  for (const url of [...routes, '/api/v3/services', '/api/v3/operations?service=x', '/api/v3/trace-summaries']) {
    const none = await get(url, {});
    assert.equal(none.status, 401, url);
    const wrong = await get(url, { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401, url);
    assert.notEqual((await get(url)).status, 401, url);
  }
});

void test('the Jaeger routes shadow nothing: /api/v1 and /api/v2 answer exactly as without them', async () => {
  const bare = Fastify();
  registerZipkinQueryRoutes(bare, { store: db.store, recent: new RecentSpans(db.store) });
  registerNativeQueryRoutes(bare, { store: db.store });
  await bare.ready();
  try {
    const window = 'endTs=2000000000000&lookback=2000000000000';
    const urls = [
      '/api/v1/services',
      `/api/v1/services/${encodeURIComponent('api')}/operations`,
      `/api/v1/traces/${OTLP_TRACE}`,
      `/api/v1/traces?start=0`,
      `/api/v1/dependencies?start=0`,
      '/api/v2/services',
      `/api/v2/spans?serviceName=${encodeURIComponent('api')}`,
      `/api/v2/traces?${window}`,
      `/api/v2/trace/${zipkinTrace}`,
      `/api/v2/dependencies?${window}`,
    ];
    for (const url of urls) {
      const want = await bare.inject({ method: 'GET', url });
      assert.ok(want.statusCode === 200, `${url}: ${want.body}`);
      const got = await app.inject({ method: 'GET', url, headers: AUTH });
      assert.equal(got.statusCode, want.statusCode, url);
      assert.deepEqual(JSON.parse(got.body), JSON.parse(want.body), url);
    }
  } finally {
    await bare.close();
  }
});
