/** `GET /api/v1/compare`: two traces (or groups) read from the store, compared by analysis compareTraces. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import type { CompareResponse } from '../src/api-types.js';
import { appWith, tempStore, type TempStore } from './query-test-support.js';

let db: TempStore;
let app: FastifyInstance;
const base = Date.UTC(2024, 0, 1) * 1000;

function call(traceId: string, n: number, rpcid: string, service: string, name: string, durationUs: number): Span {
  return {
    traceId,
    spanId: `${traceId.slice(0, 8)}${n.toString(16).padStart(8, '0')}`,
    ...(rpcid === '0' ? {} : { parentSpanId: `${traceId.slice(0, 8)}00000001` }),
    rpcid,
    service,
    name,
    kind: rpcid === '0' ? 'server' : 'client',
    startUs: base + n,
    durationUs,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  };
}

const A1 = '11111111aaaaaaaaaaaaaaaaaaaaaaaa';
const A2 = '22222222aaaaaaaaaaaaaaaaaaaaaaaa';
const B1 = '33333333bbbbbbbbbbbbbbbbbbbbbbbb';

before(async () => {
  db = await tempStore();
  await db.store.writeSpans([
    call(A1, 1, '0', 'web', 'GET /', 50_000), call(A1, 2, '0.1', 'web', 'query', 10_000),
    call(A2, 1, '0', 'web', 'GET /', 60_000), call(A2, 2, '0.1', 'web', 'query', 12_000),
    call(B1, 1, '0', 'web', 'GET /', 90_000), call(B1, 2, '0.1', 'web', 'query', 40_000), call(B1, 3, '0.2', 'web', 'cache', 1_000),
  ]);
  app = await appWith((a) => registerQueryRoutes(a, { store: db.store }));
});

after(async () => {
  await app?.close();
  await db?.cleanup();
});

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

test('compares a group of two traces with one trace, call by call', async () => {
  const { status, body } = await get(`/api/v1/compare?a=${A1},${A2.toUpperCase()}&b=${B1}`);
  assert.equal(status, 200);
  const c = body as unknown as CompareResponse;
  assert.deepEqual(c.traceIds, { a: [A1, A2], b: [B1] });
  assert.deepEqual([c.a.traces, c.b.traces], [2, 1]);
  assert.deepEqual(c.changes, { missing: 0, added: 1, slower: 2, faster: 0, same: 0 });
  assert.deepEqual(c.calls.map((x) => `${x.change} ${x.name} ${x.position}`), ['added cache 0.2', 'slower GET / 0', 'slower query 0.1']);
  assert.equal(c.calls[1]!.a?.medianUs, 55_000);
  // Repeated parameters work as well as lists.
  const again = await get(`/api/v1/compare?a=${A1}&a=${A2}&b=${B1}`);
  assert.deepEqual((again.body as unknown as CompareResponse).changes, c.changes);
});

test('refuses missing sides, malformed ids, unknown parameters and unknown traces', async () => {
  for (const [url, status, code] of [
    [`/api/v1/compare?a=${A1}`, 400, 'bad_request'],
    [`/api/v1/compare?b=${A1}`, 400, 'bad_request'],
    [`/api/v1/compare?a=${A1}&b=xyz`, 400, 'invalid_trace_id'],
    [`/api/v1/compare?a=${A1}&b=${B1}&c=1`, 400, 'bad_request'],
    [`/api/v1/compare?a=${A1}&b=${'9'.repeat(32)}`, 404, 'not_found'],
    [`/api/v1/compare?a=${Array.from({ length: 101 }, (_, i) => (i + 1).toString(16).padStart(32, '0')).join(',')}&b=${B1}`, 400, 'bad_request'],
  ] as const) {
    const r = await get(url);
    assert.equal(r.status, status, url);
    assert.equal((r.body['error'] as { code: string }).code, code, url);
  }
  const r = await get(`/api/v1/compare?a=${A1}&b=${'9'.repeat(32)}`);
  assert.match((r.body['error'] as { message: string }).message, /9{32} not found/);
});
