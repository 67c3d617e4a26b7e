import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { decodeNativeJson, decodeOtlpJson, type Span } from '@linktrace/model';
import type { DependencyLink, Finding, Operation, TraceSummary } from '@linktrace/storage';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import type { TraceView } from '../src/query/trace-view-types.js';
import { appWith, decodeFixture, getJson, tempStore, zipkinFixtureNames, type TempStore } from './query-test-support.js';

let db: TempStore;
let app: FastifyInstance;
const NOW_MS = Date.UTC(2020, 0, 1);

/** A chain with rpcids, a lost position (0.2), a failed write, a byte attribute and a start record. */
const T = '0123456789abcdef0123456789abcdef';
const base = Date.UTC(2019, 11, 31, 12) * 1000;
function span(id: string, rpcid: string, parent: string | undefined, over: Partial<Span> = {}): Span {
  const s: Span = {
    traceId: T,
    spanId: id.padStart(16, '0'),
    rpcid,
    service: 'orders',
    name: `step ${rpcid}`,
    kind: 'internal',
    startUs: base + Number(id) * 100,
    durationUs: 1000,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...over,
  };
  if (parent !== undefined) s.parentSpanId = parent.padStart(16, '0');
  return s;
}
const chain: Span[] = [
  span('1', '0', undefined, { kind: 'server', attributes: { 'linktrace.stage': 'receive', 'linktrace.entity.key': '42' }, durationUs: 10_000 }),
  span('2', '0.1', '1', { service: 'stock', attributes: { 'linktrace.stage': 'write', raw: new Uint8Array([1, 2, 3]) }, status: { code: 'error', message: 'deadlock' } }),
  span('3', '0.3', '1', { service: 'mail', attributes: { 'linktrace.stage': 'enqueue' } }),
  span('4', '0.3.1', '3', { service: 'mail', durationUs: undefined as unknown as number }),
];
delete chain[3]!.durationUs;

const findings: Finding[] = [
  { traceId: T, rule: 'stage-error', service: 'stock', spanId: '0000000000000002', message: 'write failed: deadlock', timeUs: base + 200 },
  { traceId: T, rule: 'unfinished-span', service: 'mail', spanId: '0000000000000004', message: 'never ended', timeUs: base + 400 },
  { traceId: '1e223ff1f80f1c69', rule: 'slow-chain', service: 'servicea', spanId: 'bf396325699c84bf', message: 'slow', timeUs: 1470150004071068 },
];

before(async () => {
  db = await tempStore();
  for (const name of zipkinFixtureNames()) await db.store.writeSpans(decodeFixture(name));
  await db.store.writeSpans(chain);
  await db.store.writeFindings(findings);
  app = await appWith((a) => registerQueryRoutes(a, { store: db.store, now: () => NOW_MS }));
});

after(async () => {
  await app?.close();
  await db?.cleanup();
});

function errorOf(body: unknown): { code: string; message: string } {
  return (body as { error: { code: string; message: string } }).error;
}

void test('GET /api/v1/traces/{id}: spans, parents across shared spans, clock-skew marks (skew.json)', async () => {
  const { status, body } = await getJson(app, '/api/v1/traces/1E223FF1F80F1C69');
  assert.equal(status, 200);
  const v = body as TraceView;
  assert.equal(v.traceId, '1e223ff1f80f1c69');
  assert.equal(v.spanCount, 4);
  assert.deepEqual(v.services, ['servicea', 'serviceb']);
  assert.deepEqual(v.root, { service: 'servicea', name: 'get' });
  const idx = (id: string, kind: string): number => v.spans.findIndex((s) => s.spanId === id && s.kind === kind);
  const root = idx('bf396325699c84bf', 'server');
  const client = idx('74280ae0c10d8062', 'client');
  const server = idx('74280ae0c10d8062', 'server');
  const async = idx('43210ae0c10d1234', 'internal');
  assert.deepEqual([v.parents[root], v.parents[client], v.parents[server], v.parents[async]], [-1, root, client, server]);
  // serviceb's clock is ~60 ms behind: its server half starts before the client half that called it.
  const marks = new Map(v.clockSkew.map((m) => [m.span, m]));
  assert.equal(marks.get(server)?.reason, 'starts-before-parent');
  assert.ok(marks.get(server)!.deltaUs > 60_000);
  assert.equal(marks.get(async)?.reason, 'moved-with-host');
  assert.equal(marks.get(async)?.deltaUs, marks.get(server)?.deltaUs);
  assert.equal(marks.has(root), false);
  // The call's two halves are one row (timed by the client half), the server half's child under it.
  assert.deepEqual(
    v.rows.map((r) => (r.kind === 'span' ? [r.depth, r.span, r.partner, r.skewed ?? false] : [r.kind])),
    [
      [0, root, undefined, false],
      [1, client, server, true],
      [2, async, undefined, true],
    ],
  );
  assert.equal(v.rows.some((r) => r.rpcid !== undefined), false, 'Zipkin spans carry no rpcid');
  assert.deepEqual(v.gaps, { lostHops: 0, gaps: 0, gapPositions: 0, gapsNotListed: 0 });
  // Stored spans are as they were: the raw start, not the corrected one.
  assert.equal(v.spans[server]!.startUs, 1470150004008761);
});

void test('GET /api/v1/traces/{id}: missing parents (messaging2.json) and a lost position among the rows', async () => {
  const m = (await getJson(app, '/api/v1/traces/0d1a94ebc9256244')).body as TraceView;
  // Each missing parent is one placeholder row; the spans naming it are the rows right below it.
  const lost = m.rows.flatMap((r, k) => (r.kind === 'lost-hop' ? [k] : []));
  const below = (k: number): string[] => {
    const names: string[] = [];
    for (let j = k + 1; j < m.rows.length && m.rows[j]!.depth > m.rows[k]!.depth; j++) {
      const r = m.rows[j]!;
      if (r.depth === m.rows[k]!.depth + 1 && r.kind === 'span') names.push(m.spans[r.span]!.name);
    }
    return names.sort();
  };
  assert.deepEqual(
    lost.map((k) => [(m.rows[k] as { spanId?: string }).spanId, below(k)]).sort(),
    [
      ['0153a596db406111', ['consume', 'publish']],
      ['0153a596db406c83', ['get', 'post', 'push-topic-s-n-s', 'send-confirm-transfer']],
    ],
  );

  const c = (await getJson(app, `/api/v1/traces/${T}`)).body as TraceView;
  assert.equal(c.spanCount, 4);
  assert.equal(c.errorCount, 1);
  assert.deepEqual(
    c.rows.map((r) => `${r.depth} ${r.rpcid ?? ''} ${r.kind === 'span' ? c.spans[r.span]!.name : r.text}`),
    ['0 0 step 0', '1 0.1 step 0.1', '1 0.2 lost hop: no span at 0.2', '1 0.3 step 0.3', '2 0.3.1 step 0.3.1'],
  );
  assert.deepEqual(c.gaps, { lostHops: 0, gaps: 1, gapPositions: 1, gapsNotListed: 0 });
  const failed = c.spans.find((s) => s.rpcid === '0.1')!;
  assert.deepEqual(failed.status, { code: 'error', message: 'deadlock' });
  assert.deepEqual(failed.attributes.raw, { bytes: 'AQID' }, 'bytes are JSON-safe');
  assert.equal(c.spans.find((s) => s.rpcid === '0.3.1')!.durationUs, undefined, 'a start record has no duration');
});

void test('GET /api/v1/traces/{id}: 404 when absent, 400 for a bad id or an unknown parameter', async () => {
  const missing = await getJson(app, '/api/v1/traces/1e223ff1f80f1c6a');
  assert.equal(missing.status, 404);
  assert.deepEqual(errorOf(missing.body), { code: 'not_found', message: 'trace 1e223ff1f80f1c6a not found' });
  const bad = await getJson(app, '/api/v1/traces/not-an-id');
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad.body).code, 'invalid_trace_id');
  const param = await getJson(app, '/api/v1/traces/1e223ff1f80f1c69?pretty=1');
  assert.equal(param.status, 400);
  assert.match(errorOf(param.body).message, /unknown query parameter "pretty"/);
});

void test('GET /api/v1/traces/{id}?format=otlp|zipkin: the stored spans as a file our receivers read back', async () => {
  const otlp = await app.inject({ method: 'GET', url: `/api/v1/traces/${T}?format=otlp` });
  assert.equal(otlp.statusCode, 200);
  assert.match(String(otlp.headers['content-type']), /^application\/json/);
  assert.equal(otlp.headers['content-disposition'], `attachment; filename="trace-${T}.otlp.json"`);
  const back = decodeOtlpJson(JSON.parse(otlp.body));
  assert.equal(back.rejected, 0);
  const key = (s: Span): string => JSON.stringify([s.spanId, s.parentSpanId, s.rpcid, s.service, s.name, s.kind, s.startUs, s.durationUs, s.status]);
  assert.deepEqual(back.spans.map(key).sort(), chain.map(key).sort());
  assert.deepEqual(back.spans.find((s) => s.spanId === '0000000000000002')!.attributes['raw'], new Uint8Array([1, 2, 3]));

  const zipkin = await app.inject({ method: 'GET', url: '/api/v1/traces/1E223FF1F80F1C69?format=zipkin' });
  assert.equal(zipkin.statusCode, 200);
  assert.equal(zipkin.headers['content-disposition'], 'attachment; filename="trace-1e223ff1f80f1c69.zipkin.json"');
  assert.deepEqual(JSON.parse(zipkin.body), (await getJson(app, '/api/v2/trace/1e223ff1f80f1c69')).body, 'the same list as the Zipkin read API');

  // What a federated gateway reads from an agent: the native batch, decoded back to the same spans.
  const native = await app.inject({ method: 'GET', url: `/api/v1/traces/${T}?format=native` });
  assert.equal(native.statusCode, 200);
  const nativeBack = decodeNativeJson(JSON.parse(native.body));
  assert.equal(nativeBack.rejected, 0);
  assert.deepEqual(nativeBack.spans.map(key).sort(), chain.map(key).sort());

  const bad = await getJson(app, `/api/v1/traces/${T}?format=jaeger`);
  assert.equal(bad.status, 400);
  assert.deepEqual(errorOf(bad.body), { code: 'bad_request', message: 'query parameter format must be one of view, otlp, zipkin, native, not "jaeger"' });
  const missing = await getJson(app, '/api/v1/traces/1e223ff1f80f1c6a?format=otlp');
  assert.equal(missing.status, 404);
  assert.equal(errorOf(missing.body).code, 'not_found');
});

async function search(q: string): Promise<TraceSummary[]> {
  const r = await getJson(app, `/api/v1/traces?${q}`);
  assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
  return (r.body as { traces: TraceSummary[] }).traces;
}

void test('GET /api/v1/traces: search by service, operation, attributes, duration, time, status, limit', async () => {
  assert.deepEqual((await search('service=stock')).map((t) => t.traceId), [T]);
  const summary = (await search('service=stock'))[0]!;
  assert.deepEqual(summary, { traceId: T, startUs: base + 100, durationUs: 10_000, spanCount: 4, errorCount: 1, services: ['mail', 'orders', 'stock'], root: { service: 'orders', name: 'step 0' }, findingCount: 2 });
  assert.deepEqual((await search('service=frontend&operation=publish')).map((t) => t.traceId), ['5aab74dbb904746bb33447baae403ed6']);
  assert.deepEqual((await search('attr=linktrace.stage%3Dwrite')).map((t) => t.traceId), [T]);
  assert.deepEqual((await search('attr=linktrace.stage%3Dreceive&attr=linktrace.entity.key%3D42')).map((t) => t.traceId), [T]);
  assert.deepEqual(await search('attr=linktrace.stage%3Dreceive&attr=linktrace.entity.key%3D43'), []);
  assert.deepEqual((await search('status=error&service=stock')).map((t) => t.traceId), [T]);
  assert.deepEqual(await search('status=error&service=mail'), []);
  // skew.json's root lasts 99.411 ms; with units or µs.
  assert.deepEqual((await search('service=servicea&minDuration=99ms&maxDuration=100ms')).map((t) => t.traceId), ['1e223ff1f80f1c69']);
  assert.deepEqual(await search('service=servicea&operation=get&minDuration=99412'), []);
  // Time bounds: ISO and µs; skew.json is from 2016-08-02.
  assert.deepEqual((await search('start=2016-08-02&end=2016-08-03')).map((t) => t.traceId), ['1e223ff1f80f1c69']);
  assert.deepEqual((await search('start=1470150004071068&end=1470150004071068')).map((t) => t.traceId), ['1e223ff1f80f1c69']);
  assert.equal((await search('limit=3')).length, 3);
  const all = await search('limit=100');
  assert.equal(all.length, 11);
  assert.deepEqual(all.map((t) => t.startUs), all.map((t) => t.startUs).sort((a, b) => b - a), 'newest first');
});

void test('GET /api/v1/traces: every bad parameter is a 400 naming it', async () => {
  const cases: [string, RegExp][] = [
    ['status=failed', /status/],
    ['minDuration=fast', /minDuration/],
    ['maxDuration=-1', /maxDuration/],
    ['minDuration=5ms&maxDuration=1ms', /maxDuration must not be less/],
    ['start=yesterday', /start/],
    ['end=2024-02-30', /end/],
    ['start=2024-01-02&end=2024-01-01', /end must not be before start/],
    ['limit=0', /limit/],
    ['limit=ten', /limit/],
    ['attr=novalue', /key=value/],
    ['service=a&service=b', /more than once/],
    ['serviceName=a', /unknown query parameter "serviceName"/],
  ];
  for (const [q, msg] of cases) {
    const r = await getJson(app, `/api/v1/traces?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(errorOf(r.body).code, 'bad_request', q);
    assert.match(errorOf(r.body).message, msg, q);
  }
});

void test('GET /api/v1/services and /api/v1/services/{service}/operations (names with a slash, kind filter)', async () => {
  const services = ((await getJson(app, '/api/v1/services')).body as { services: string[] }).services;
  assert.ok(services.includes('orders') && services.includes('yelp_main/api_proxy') && services.includes('servicea'));
  assert.deepEqual(services, [...services].sort());
  const ops = (q: string): Promise<Operation[]> => getJson(app, q).then((r) => (r.body as { operations: Operation[] }).operations);
  assert.deepEqual(await ops('/api/v1/services/frontend/operations'), [
    { name: 'get', kind: 'client' },
    { name: 'get /', kind: 'server' },
    { name: 'publish', kind: 'producer' },
  ]);
  assert.deepEqual(await ops('/api/v1/services/frontend/operations?kind=producer'), [{ name: 'publish', kind: 'producer' }]);
  assert.deepEqual(await ops(`/api/v1/services/${encodeURIComponent('yelp_main/api_proxy')}/operations`), [{ name: 'post api proxy proxy', kind: 'server' }]);
  assert.deepEqual(await ops('/api/v1/services/nope/operations'), []);
  const bad = await getJson(app, '/api/v1/services/frontend/operations?kind=SERVER');
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad.body).message, /kind must be one of internal, server, client, producer, consumer/);
  assert.equal((await getJson(app, '/api/v1/services?x=1')).status, 400);
});

void test('GET /api/v1/dependencies: a time window (default: all the data, however old), ISO or µs', async () => {
  const deps = (q: string): Promise<DependencyLink[]> => getJson(app, `/api/v1/dependencies${q}`).then((r) => (r.body as { dependencies: DependencyLink[] }).dependencies);
  const link = (parent: string, child: string) => (d: DependencyLink): boolean => d.parent === parent && d.child === child;
  // now = 2020-01-01; the chain is from 2019-12-31, the Zipkin fixtures from 2016: no bound, both.
  const all = await deps('');
  assert.ok(all.some(link('orders', 'stock')) && all.some(link('servicea', 'serviceb')), JSON.stringify(all));
  assert.deepEqual(await deps(`?start=0&end=${Number.MAX_SAFE_INTEGER}`), all);
  // One bound given: the other end stays open.
  const before2019 = await deps('?end=2019-01-01');
  assert.ok(before2019.some(link('servicea', 'serviceb')) && !before2019.some(link('orders', 'stock')));
  assert.deepEqual(await deps('?start=2019-12-31'), [
    { parent: 'orders', child: 'mail', callCount: 1, errorCount: 0 },
    { parent: 'orders', child: 'stock', callCount: 1, errorCount: 1 },
  ]);
  assert.deepEqual(await deps('?start=2016-08-02&end=2016-08-03'), [{ parent: 'servicea', child: 'serviceb', callCount: 1, errorCount: 0 }]);
  assert.deepEqual(await deps('?start=1470150004008761&end=1470150004008761'), []);
  for (const q of ['?start=x', '?end=2016-13-01', '?start=2016-08-03&end=2016-08-02', '?endTs=5']) {
    assert.equal((await getJson(app, `/api/v1/dependencies${q}`)).status, 400, q);
  }
});

void test("GET /api/v1/service-map without start or end (the UI's \"Any time\"): the map of all the data, imported 2016 traces included", async () => {
  type Map = { nodes: { id: string }[]; edges: { from: string; to: string; callCount: number }[] };
  const map = async (q: string): Promise<Map> => {
    const r = await getJson(app, `/api/v1/service-map${q}`);
    assert.equal(r.status, 200, q);
    return r.body as Map;
  };
  const anyTime = await map('');
  assert.ok(anyTime.edges.some((e) => e.from === 'servicea' && e.to === 'serviceb'), JSON.stringify(anyTime.edges));
  assert.ok(anyTime.edges.some((e) => e.from === 'orders' && e.to === 'stock'));
  assert.deepEqual(anyTime, await map(`?start=0&end=${Number.MAX_SAFE_INTEGER}`));
  // A bounded window still bounds it.
  assert.ok(!(await map('?start=2019-12-31')).edges.some((e) => e.from === 'servicea'));
});

void test('GET /api/v1/findings: filters by trace, rule, service and time; objects carry traceId, rule, service, spanId, message', async () => {
  const find = async (q: string): Promise<Finding[]> => {
    const r = await getJson(app, `/api/v1/findings${q}`);
    assert.equal(r.status, 200, q);
    return (r.body as { findings: Finding[] }).findings;
  };
  const every = await find('');
  assert.equal(every.length, 3);
  for (const f of every) for (const k of ['traceId', 'rule', 'service', 'spanId', 'message']) assert.equal(typeof (f as unknown as Record<string, unknown>)[k], 'string', k);
  assert.deepEqual((await find(`?traceId=${T.toUpperCase()}`)).map((f) => f.rule).sort(), ['stage-error', 'unfinished-span']);
  // Each carries its id (what a remedy request names), made of its trace, span and rule.
  assert.deepEqual(await find('?rule=stage-error'), [{ ...findings[0]!, id: `${findings[0]!.traceId}-${findings[0]!.spanId}-stage-error` }]);
  assert.deepEqual((await find('?service=servicea')).map((f) => f.rule), ['slow-chain']);
  assert.deepEqual((await find('?start=2019-12-31&end=2020-01-01')).length, 2);
  assert.deepEqual((await find(`?start=${base + 300}`)).map((f) => f.rule), ['unfinished-span']);
  assert.equal((await find('?limit=1')).length, 1);
  for (const [q, code] of [
    ['?rule=missing-read', 'bad_request'],
    ['?traceId=123', 'invalid_trace_id'],
    ['?start=2020-01-02&end=2020-01-01', 'bad_request'],
    ['?limit=0', 'bad_request'],
    ['?severity=high', 'bad_request'],
  ]) {
    const r = await getJson(app, `/api/v1/findings${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(errorOf(r.body).code, code, q);
  }
});
