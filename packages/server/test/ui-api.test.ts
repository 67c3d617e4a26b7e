/**
 * The query API the web UI reads: a trace with its critical path and findings, search by findings,
 * the service map, a flow's history, and findings pinned to their hop (rpcid). A real embedded store
 * and the running chain checker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { criticalPath, serviceMapFromSpans } from '@linktrace/analysis';
import { openEmbeddedStore, type EmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import type { ErrorBody, FindingsResponse, FlowDetail, ServiceMap, TraceSearchResponse, TraceView } from '../src/api-types.js';
import { advanceAndCheck, ID, manualClock, newTraceId, postSpans, shopSync, without } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

let dir: string;
let store: EmbeddedStore;
let app: FastifyInstance;
const healthy = newTraceId();
const broken = newTraceId();
let healthySpans: Span[];
let brokenSpans: Span[];
/** The server's clock, moved by the test. */
const clock = manualClock();

async function get<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: JSON.parse(res.body) as T };
}

async function badRequest(url: string, code = 'bad_request', status = 400): Promise<string> {
  const res = await get<ErrorBody>(url);
  assert.equal(res.status, status, url);
  assert.equal(res.body.error.code, code, url);
  return res.body.error.message;
}

before(async () => {
  dir = tempDir('lt-ui-api-');
  store = await openEmbeddedStore({ dataDir: dir });
  app = await buildApp({
    store,
    dataDir: dir,
    clock: clock.now,
    checker: {
      checkDelayMs: 200,
      maxWaitMs: 5000,
      flows: [
        {
          name: 'shop-sync',
          deadlineMs: 5000,
          steps: [
            { service: 'merchant-api', stage: 'receive' },
            { service: 'sync-worker', stage: 'write', target: 'mysql:user_shop' },
            { service: 'shop-query', stage: 'write', target: 'memory:shop_cache' },
          ],
        },
      ],
    },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.ready();
  // Started 10 s ago: the flow's 5 s deadline is over when they are checked.
  healthySpans = shopSync(healthy, 10_000, clock.now());
  brokenSpans = without(shopSync(broken, 10_000, clock.now()), ID.queryReceive, ID.queryWrite);
  await postSpans(app, [...healthySpans, ...brokenSpans]);
  await advanceAndCheck(app, clock, 200);
  assert.ok((await get<FindingsResponse>(`/api/v1/findings?traceId=${broken}`)).body.findings.length >= 1, 'findings of the broken trace');
});

after(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

void test('GET /api/v1/findings: each finding names its span and the hop position (rpcid)', async () => {
  const { body } = await get<FindingsResponse>(`/api/v1/findings?traceId=${broken}`);
  // One broken hop, one finding: the flow's missing step is this same gap.
  const pinned = body.findings.map((f) => [f.rule, f.service, f.spanId, f.rpcid]);
  assert.deepEqual(pinned, [['missing-downstream-receive', 'sync-worker', ID.workerHttp, '0.2.3']]);
  assert.deepEqual((await get<FindingsResponse>(`/api/v1/findings?traceId=${healthy}`)).body.findings, []);
});

void test('GET /api/v1/traces/{id}: the critical path and the stored findings', async () => {
  const { status, body } = await get<TraceView>(`/api/v1/traces/${broken}`);
  assert.equal(status, 200);
  // The worker's http write (145–245 ms) ends last; the queue hop is on the way.
  assert.deepEqual(body.criticalPath, ['a000000000000001', ID.apiEnqueue, ID.workerReceive, ID.workerHttp]);
  assert.deepEqual(body.criticalPath, criticalPath(brokenSpans));
  assert.equal(body.findingCount, 1);
  assert.deepEqual(body.findings.map((f) => [f.rule, f.spanId, f.rpcid]), [['missing-downstream-receive', ID.workerHttp, '0.2.3']]);
  assert.ok(body.findings.every((f) => f.traceId === broken));

  const ok = (await get<TraceView>(`/api/v1/traces/${healthy.toUpperCase()}`)).body;
  assert.deepEqual(ok.criticalPath, ['a000000000000001', ID.apiEnqueue, ID.workerReceive, ID.workerHttp, ID.queryReceive, ID.queryWrite]);
  assert.deepEqual(ok.findings, []);
  assert.equal(ok.findingCount, 0);
});

void test('GET /api/v1/traces?hasFindings=: traces with or without findings, each hit with its finding count', async () => {
  const withFindings = (await get<TraceSearchResponse>('/api/v1/traces?hasFindings=true')).body.traces;
  assert.deepEqual(withFindings.map((t) => [t.traceId, t.findingCount]), [[broken, 1]]);
  const without = (await get<TraceSearchResponse>('/api/v1/traces?hasFindings=false&service=shop-query')).body.traces;
  assert.deepEqual(without.map((t) => [t.traceId, t.findingCount]), [[healthy, 0]]);
  const all = (await get<TraceSearchResponse>('/api/v1/traces?service=merchant-api')).body.traces;
  assert.deepEqual(all.map((t) => t.findingCount).sort(), [0, 1]);

  assert.match(await badRequest('/api/v1/traces?hasFindings=yes'), /hasFindings must be true or false, not "yes"/);
  assert.match(await badRequest('/api/v1/traces?hasFindings=TRUE'), /hasFindings must be true or false/);
  assert.match(await badRequest('/api/v1/traces?hasFindings=true&hasFindings=false'), /hasFindings is given more than once/);
  assert.match(await badRequest('/api/v1/traces?hasFinding=true'), /unknown query parameter "hasFinding"/);
});

void test('GET /api/v1/service-map: services and the queue, timed as the analysis reference computes them', async () => {
  const start = Math.min(...healthySpans.map((s) => s.startUs)) - 1;
  const end = Math.max(...healthySpans.map((s) => s.startUs)) + 1;
  const { status, body } = await get<ServiceMap>(`/api/v1/service-map?start=${start}&end=${end}`);
  assert.equal(status, 200);
  assert.deepEqual(body, serviceMapFromSpans([...healthySpans, ...brokenSpans]));
  assert.deepEqual(body.nodes.map((n) => [n.id, n.kind, n.label]), [
    ['merchant-api', 'service', 'merchant-api'],
    ['mq:shop-changed', 'queue', 'shop-changed'],
    ['shop-query', 'service', 'shop-query'],
    ['sync-worker', 'service', 'sync-worker'],
  ]);
  assert.deepEqual(body.edges.map((e) => [e.from, e.to, e.callCount, e.errorRate, e.p99Us]), [
    ['merchant-api', 'mq:shop-changed', 2, 0, 5000],
    ['mq:shop-changed', 'sync-worker', 2, 0, 200_000],
    ['sync-worker', 'shop-query', 1, 0, 80_000],
  ]);
  // Defaults: the last day up to now.
  assert.equal((await get<ServiceMap>('/api/v1/service-map')).body.edges.length, 3);
  assert.deepEqual((await get<ServiceMap>(`/api/v1/service-map?start=1&end=2`)).body, { nodes: [], edges: [] });
  await badRequest('/api/v1/service-map?start=later');
  assert.match(await badRequest(`/api/v1/service-map?start=${end}&end=${start}`), /end must not be before start/);
  await badRequest('/api/v1/service-map?service=x');
});

void test('GET /api/v1/flows/{name}: instances per minute and the broken instances with their missing steps', async () => {
  const { status, body } = await get<FlowDetail>('/api/v1/flows/shop-sync');
  assert.equal(status, 200);
  assert.equal(body.flow.contract.name, 'shop-sync');
  assert.equal(body.flow.summary.instances, 2);
  assert.equal(body.flow.summary.broken, 1);
  const minute = 60_000_000;
  const startOf = (spans: Span[]): number => Math.min(...spans.map((s) => s.startUs));
  const buckets = new Map<number, { instances: number; broken: number }>();
  for (const [spans, isBroken] of [[healthySpans, false], [brokenSpans, true]] as const) {
    const at = Math.floor(startOf(spans) / minute) * minute;
    const b = buckets.get(at) ?? { instances: 0, broken: 0 };
    b.instances++;
    if (isBroken) b.broken++;
    buckets.set(at, b);
  }
  assert.deepEqual(body.history, [...buckets].sort((a, b) => a[0] - b[0]).map(([startUs, b]) => ({ startUs, ...b })));
  assert.deepEqual(body.brokenInstances, [{ traceId: broken, atUs: startOf(brokenSpans), missing: ['shop-query write memory:shop_cache'] }]);

  const wide = (await get<FlowDetail>('/api/v1/flows/shop-sync?bucket=1h')).body.history;
  assert.equal(wide.length, 1);
  assert.deepEqual([wide[0]!.instances, wide[0]!.broken, wide[0]!.startUs % 3_600_000_000], [2, 1, 0]);
  await badRequest('/api/v1/flows/shop-sync?bucket=90s');
  await badRequest('/api/v1/flows/shop-sync?bucket=soon');
  await badRequest('/api/v1/flows/shop-sync?since=1');
  assert.match(await badRequest('/api/v1/flows/no-such-flow', 'not_found', 404), /no flow contract named "no-such-flow"/);
});
