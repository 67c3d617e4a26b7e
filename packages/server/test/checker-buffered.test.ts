/**
 * The checker checks a trace from the spans it holds; it reads the store only for a trace whose
 * spans it let go (late spans after its check) or never had. A wrapper store counts the reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { startRecordOf, type Span } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import type { CheckerStatus } from '../src/checker/chain-checker.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { ID, advanceAndCheck, manualClock, newTraceId, postSpans, shopSync as shopSyncAt, without } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;
/** The rule deadline of `slowApp`: its traces wait this long for a re-check. */
const SLOW_DEADLINE_MS = 1500;
/** The servers' clocks, moved by the tests: no result depends on how fast the machine runs. */
const clock = manualClock();
const slowClock = manualClock();

/** Trace ids asked of `getTraces`, in order, by every caller. */
const reads: string[] = [];
let dir: string;
let inner: EmbeddedStore;
let app: FastifyInstance;
/** A second app whose rule deadline outlasts the check delay: every trace waits for a re-check. */
let slowDir: string;
let slowInner: EmbeddedStore;
let slowApp: FastifyInstance;

/** The real store, with `getTraces` counted. */
function counting(store: EmbeddedStore): EmbeddedStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'getTraces') {
        return (ids: readonly string[]) => {
          reads.push(...ids);
          return target.getTraces(ids);
        };
      }
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

before(async () => {
  dir = tempDir('lt-checker-buffered-');
  inner = await openEmbeddedStore({ dataDir: dir });
  const store = counting(inner);
  app = await buildApp({ store, dataDir: dir, clock: clock.now, checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 }, extraRoutes: (s) => registerQueryRoutes(s, { store }) });
  await app.ready();
  slowDir = tempDir('lt-checker-buffered-slow-');
  slowInner = await openEmbeddedStore({ dataDir: slowDir });
  const slowStore = counting(slowInner);
  slowApp = await buildApp({
    store: slowStore,
    dataDir: slowDir,
    clock: slowClock.now,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000, deadlineMs: SLOW_DEADLINE_MS },
    extraRoutes: (s) => registerQueryRoutes(s, { store: slowStore }),
  });
  await slowApp.ready();
});

after(async () => {
  await app?.close();
  await slowApp?.close();
  await inner?.close();
  await slowInner?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(slowDir, { recursive: true, force: true });
});

async function findings(a: FastifyInstance, traceId: string): Promise<Finding[]> {
  const res = await a.inject({ method: 'GET', url: `/api/v1/findings?traceId=${traceId}` });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { findings: Finding[] }).findings;
}

const checkedTraces = (a: FastifyInstance): number => a.linktrace.checker!.status().checkedTraces;
const advance = (ms: number): Promise<void> => advanceAndCheck(app, clock, ms);
const advanceSlow = (ms: number): Promise<void> => advanceAndCheck(slowApp, slowClock, ms);
const shopSync = (trace: string): Span[] => shopSyncAt(trace, 1000, clock.now());
/** A trace starting now by `slowApp`'s clock: its deadlines are not over at the first check. */
const shopSyncNow = (trace: string): Span[] => shopSyncAt(trace, 0, slowClock.now());

/** The reconciler's span after sync-worker's redis write: it names the write only as its parent. */
function reconcileSpan(trace: Span[]): Span {
  const write = trace.find((s) => s.spanId === ID.workerRedis)!;
  return {
    traceId: write.traceId,
    spanId: 'e000000000000001',
    parentSpanId: write.spanId,
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
      'linktrace.reconcile.result': 'mismatch',
      'linktrace.reconcile.source.version': '7',
      'linktrace.reconcile.target.version': '6',
    },
    events: [],
    links: [],
  };
}

void test('a trace is checked from the spans the checker holds: no store read', async () => {
  const since = checkedTraces(app);
  const healthy = newTraceId();
  const broken = newTraceId();
  await postSpans(app, shopSync(healthy));
  // Two batches of one trace, a broken one: a receive that is never written.
  const spans = without(shopSync(broken), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
  await postSpans(app, spans.slice(0, 3));
  await postSpans(app, spans.slice(3));
  await advance(CHECK_DELAY_MS);
  assert.equal(checkedTraces(app), since + 2);
  assert.deepEqual(await findings(app, healthy), []);
  const [f, ...rest] = await findings(app, broken);
  assert.deepEqual(rest, []);
  assert.equal(f?.rule, 'missing-write');
  assert.equal(f?.spanId, ID.workerReceive);
  assert.ok(f?.rpcid !== undefined, 'the finding is pinned to its position');
  assert.deepEqual(reads.filter((id) => id === healthy || id === broken), []);
  assert.equal(app.linktrace.checker!.status().readBack, 0);
});

void test('a late span after the trace was checked and let go: the trace is read back and checked whole', async () => {
  const trace = newTraceId();
  const spans = shopSync(trace);
  let since = checkedTraces(app);
  await postSpans(app, spans);
  await advance(CHECK_DELAY_MS);
  assert.equal(checkedTraces(app), since + 1);
  assert.deepEqual(await findings(app, trace), []);
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [],
  );
  since = checkedTraces(app);
  await postSpans(app, [reconcileSpan(spans)]);
  await advance(CHECK_DELAY_MS);
  assert.equal(checkedTraces(app), since + 1);
  // Checked alone, the reconcile span would be named itself; with the trace read back, its write is.
  const [f, ...rest] = await findings(app, trace);
  assert.deepEqual(rest, []);
  assert.equal(f?.rule, 'data-mismatch');
  assert.equal(f?.spanId, ID.workerRedis);
  assert.equal(f?.service, 'sync-worker');
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [trace],
  );
  assert.equal(app.linktrace.checker!.status().readBack, 1);
});

void test('late spans while the trace waits for its re-check are checked with the spans it kept: no store read', async () => {
  const trace = newTraceId();
  const spans = shopSyncNow(trace);
  const status = (): CheckerStatus => slowApp.linktrace.checker!.status();
  const since = status().checkedTraces;
  // The producer alone: within the 1.5 s deadline its consumer may still come, so no finding yet.
  await postSpans(slowApp, spans.filter((s) => s.service === 'merchant-api'));
  await advanceSlow(CHECK_DELAY_MS);
  assert.equal(status().checkedTraces, since + 1);
  assert.equal(status().pendingRechecks, 1);
  assert.deepEqual(await findings(slowApp, trace), []);
  // The consumer side arrives late, before the re-check.
  await postSpans(slowApp, spans.filter((s) => s.service !== 'merchant-api'));
  await advanceSlow(CHECK_DELAY_MS);
  assert.equal(status().checkedTraces, since + 2, 'checked again with the late spans');
  assert.equal(status().pendingRechecks, 1, 'its deadlines are still not over');
  await advanceSlow(SLOW_DEADLINE_MS + CHECK_DELAY_MS);
  assert.equal(status().checkedTraces, since + 3);
  assert.equal(status().pendingRechecks, 0, 'no re-check left');
  assert.deepEqual(await findings(slowApp, trace), []);
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [],
  );
  assert.equal(status().readBack, 0);
});

void test('without its consumer, the kept spans give not-consumed at the re-check, still without a store read', async () => {
  const trace = newTraceId();
  const since = checkedTraces(slowApp);
  await postSpans(slowApp, shopSyncNow(trace).filter((s) => s.service === 'merchant-api'));
  await advanceSlow(CHECK_DELAY_MS);
  assert.equal(checkedTraces(slowApp), since + 1);
  assert.deepEqual(await findings(slowApp, trace), [], 'its consumer may still come');
  await advanceSlow(SLOW_DEADLINE_MS + CHECK_DELAY_MS);
  assert.equal(checkedTraces(slowApp), since + 2);
  const [f, ...rest] = await findings(slowApp, trace);
  assert.deepEqual(rest, []);
  assert.equal(f?.rule, 'not-consumed');
  assert.equal(f?.spanId, ID.apiEnqueue);
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [],
  );
});

void test('start records held beside their end records, and a span handed in twice, are one span each in the check', async () => {
  const trace = newTraceId();
  const spans = shopSync(trace);
  const since = checkedTraces(app);
  // Long spans announce themselves first (DESIGN §3): every span's start record, then the spans,
  // one batch again (a redelivery), all before the check.
  await postSpans(app, spans.map(startRecordOf));
  await postSpans(app, spans);
  await postSpans(app, spans.slice(0, 4));
  await advance(CHECK_DELAY_MS);
  assert.equal(checkedTraces(app), since + 1);
  // Taking the first record of a span id would keep the start records: unfinished-span on every one.
  assert.deepEqual(await findings(app, trace), []);
});

void test('host-local checks (a federated agent): rules that need another host are not reported, the others are', async () => {
  const localDir = tempDir('lt-checker-host-local-');
  const localClock = manualClock();
  const localStore = await openEmbeddedStore({ dataDir: localDir });
  const local = await buildApp({ store: localStore, dataDir: localDir, clock: localClock.now, checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000, hostLocal: true }, extraRoutes: (s) => registerQueryRoutes(s, { store: localStore }) });
  await local.ready();
  try {
    // The producer's host alone: its consumer lives on another host, so no not-consumed here.
    const producerOnly = newTraceId();
    await postSpans(local, shopSyncAt(producerOnly, 1000, localClock.now()).filter((s) => s.service === 'merchant-api'));
    // A receive never written, all on this host: still found.
    const broken = newTraceId();
    await postSpans(local, without(shopSyncAt(broken, 1000, localClock.now()), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite));
    // Past every rule deadline (the check delay) and the re-check.
    await advanceAndCheck(local, localClock, CHECK_DELAY_MS);
    await advanceAndCheck(local, localClock, 5000 + CHECK_DELAY_MS);
    assert.deepEqual(await findings(local, producerOnly), []);
    assert.deepEqual(
      (await findings(local, broken)).map((f) => f.rule),
      ['missing-write'],
    );
  } finally {
    await local.close();
    await localStore.close();
    rmSync(localDir, { recursive: true, force: true });
  }
  // The same producer alone on a checker that sees every host: not-consumed.
  const trace = newTraceId();
  await postSpans(slowApp, shopSyncNow(trace).filter((s) => s.service === 'merchant-api'));
  await advanceSlow(CHECK_DELAY_MS);
  await advanceSlow(SLOW_DEADLINE_MS + CHECK_DELAY_MS);
  assert.deepEqual(
    (await findings(slowApp, trace)).map((f) => f.rule),
    ['not-consumed'],
  );
});
