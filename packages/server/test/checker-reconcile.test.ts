import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { ID, advanceAndCheck, duplicateOf, manualClock, newTraceId, postSpans, shopSync as shopSyncAt } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;
/** The server's clock, moved by the tests. */
const clock = manualClock();
const shopSync = (trace: string): Span[] => shopSyncAt(trace, 1000, clock.now());
const advance = (ms: number): Promise<void> => advanceAndCheck(app, clock, ms);

let dir: string;
let store: EmbeddedStore;
let app: FastifyInstance;

before(async () => {
  dir = tempDir('lt-reconcile-');
  store = await openEmbeddedStore({ dataDir: dir });
  app = await buildApp({
    store,
    dataDir: dir,
    clock: clock.now,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.ready();
});

after(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The span the SDK's reconciler records after sync-worker's redis write, as it reaches the server. */
function reconcileSpan(trace: Span[], result: string): Span {
  const write = trace.find((s) => s.spanId === ID.workerRedis)!;
  return {
    traceId: write.traceId,
    spanId: 'e000000000000001',
    parentSpanId: write.spanId,
    rpcid: `${write.rpcid!}.1`,
    service: 'sync-worker',
    name: 'reconcile shop',
    kind: 'internal',
    startUs: write.startUs + write.durationUs! + 50_000,
    durationUs: 2000,
    status: { code: 'unset' },
    attributes: {
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '42',
      'linktrace.entity.version': '7',
      'linktrace.target': 'redis:shop_cache',
      'linktrace.reconcile.delay_ms': 50,
      'linktrace.reconcile.result': result,
      'linktrace.reconcile.source.version': '7',
      'linktrace.reconcile.target.version': '6',
    },
    events: [],
    links: [],
  };
}

async function dataMismatches(traceId: string): Promise<Finding[]> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/findings?rule=data-mismatch&traceId=${traceId}` });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { findings: Finding[] }).findings;
}

async function metric(name: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

void test('a reconcile span with a mismatch becomes a data-mismatch finding, queryable by rule and counted', async () => {
  const before = await metric('linktrace_findings_total{rule="data-mismatch"}');
  assert.equal(before, 0, 'the rule is listed in the metrics from the start');
  const trace = newTraceId();
  const spans = shopSync(trace);
  await postSpans(app, [...spans, reconcileSpan(spans, 'mismatch')]);
  await advance(CHECK_DELAY_MS);
  const found = await dataMismatches(trace);
  assert.equal(found.length, 1);
  const f = found[0]!;
  assert.equal(f.rule, 'data-mismatch');
  assert.equal(f.service, 'sync-worker');
  assert.equal(f.spanId, ID.workerRedis);
  assert.equal(f.target, 'redis:shop_cache');
  assert.equal(f.message, 'sync-worker wrote shop 42 v7 to redis:shop_cache; 50 ms later redis:shop_cache differs from the source (source v7; target v6)');
  const all = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${trace}` });
  assert.equal((JSON.parse(all.body) as { findings: Finding[] }).findings.length, 1, 'no other rule fired');
  assert.equal(await metric('linktrace_findings_total{rule="data-mismatch"}'), before + 1, 'the counter');
});

void test('a reconcile span that arrives after the trace was checked re-opens it; a match yields nothing', async () => {
  const trace = newTraceId();
  const spans = shopSync(trace);
  const since = app.linktrace.checker!.status().checkedTraces;
  await postSpans(app, spans);
  await advance(CHECK_DELAY_MS);
  assert.equal(app.linktrace.checker!.status().checkedTraces, since + 1, 'first check');
  assert.deepEqual(await dataMismatches(trace), []);
  await postSpans(app, [reconcileSpan(spans, 'missing')]);
  await advance(CHECK_DELAY_MS);
  const [f] = await dataMismatches(trace);
  assert.equal(f!.spanId, ID.workerRedis);
  assert.match(f!.message, /redis:shop_cache has no such record \(source v7\)$/);

  // A match is no finding: the trace also holds a duplicate write, whose finding shows it was checked.
  const other = newTraceId();
  const ok = shopSync(other);
  await postSpans(app, [...ok, duplicateOf(ok, ID.workerMysql, 'b0000000000000fe'), reconcileSpan(ok, 'match')]);
  await advance(CHECK_DELAY_MS);
  const res = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${other}` });
  assert.deepEqual(
    (JSON.parse(res.body) as { findings: Finding[] }).findings.map((x) => x.rule),
    ['duplicate-write'],
  );
});

void test('an unknown rule is still refused with a 400', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/findings?rule=data-mismatches' });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /data-mismatch/);
});
