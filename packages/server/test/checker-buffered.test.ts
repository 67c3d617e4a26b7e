/**
 * The checker checks a trace from the spans it holds; it reads the store only for a trace whose
 * spans it let go (late spans after its check) or never had. A wrapper store counts the reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import type { CheckerStatus } from '../src/checker/chain-checker.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { ID, eventually, newTraceId, postSpans, shopSync, without } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;

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
  app = await buildApp({ store, dataDir: dir, checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 }, extraRoutes: (s) => registerQueryRoutes(s, { store }) });
  await app.ready();
  slowDir = tempDir('lt-checker-buffered-slow-');
  slowInner = await openEmbeddedStore({ dataDir: slowDir });
  const slowStore = counting(slowInner);
  slowApp = await buildApp({
    store: slowStore,
    dataDir: slowDir,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000, deadlineMs: 1500 },
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

async function checked(a: FastifyInstance, since: number, n: number, ms = CHECK_DELAY_MS + 3000): Promise<void> {
  await eventually(() => Promise.resolve(a.linktrace.checker!.status().checkedTraces >= since + n ? true : undefined), ms, `${n} traces checked`);
}

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
  const since = app.linktrace.checker!.status().checkedTraces;
  const healthy = newTraceId();
  const broken = newTraceId();
  await postSpans(app, shopSync(healthy));
  // Two batches of one trace, a broken one: a receive that is never written.
  const spans = without(shopSync(broken), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
  await postSpans(app, spans.slice(0, 3));
  await postSpans(app, spans.slice(3));
  await checked(app, since, 2);
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
  let since = app.linktrace.checker!.status().checkedTraces;
  await postSpans(app, spans);
  await checked(app, since, 1);
  assert.deepEqual(await findings(app, trace), []);
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [],
  );
  since = app.linktrace.checker!.status().checkedTraces;
  await postSpans(app, [reconcileSpan(spans)]);
  await checked(app, since, 1);
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
  const spans = shopSync(trace, 0);
  const status = (): CheckerStatus => slowApp.linktrace.checker!.status();
  const since = status().checkedTraces;
  // The producer alone: within the 1.5 s deadline its consumer may still come, so no finding yet.
  await postSpans(slowApp, spans.filter((s) => s.service === 'merchant-api'));
  await checked(slowApp, since, 1);
  assert.equal(status().pendingRechecks, 1);
  assert.deepEqual(await findings(slowApp, trace), []);
  // The consumer side arrives late, before the re-check.
  await postSpans(slowApp, spans.filter((s) => s.service !== 'merchant-api'));
  await checked(slowApp, since, 3, 5000);
  await eventually(() => Promise.resolve(status().pendingRechecks === 0 ? true : undefined), 4000, 'no re-check left');
  assert.deepEqual(await findings(slowApp, trace), []);
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [],
  );
  assert.equal(status().readBack, 0);
});

void test('without its consumer, the kept spans give not-consumed at the re-check, still without a store read', async () => {
  const trace = newTraceId();
  const since = slowApp.linktrace.checker!.status().checkedTraces;
  await postSpans(slowApp, shopSync(trace, 0).filter((s) => s.service === 'merchant-api'));
  await checked(slowApp, since, 2, 5000);
  const [f, ...rest] = await eventually(async () => {
    const found = await findings(slowApp, trace);
    return found.length > 0 ? found : undefined;
  }, 3000, 'not-consumed');
  assert.deepEqual(rest, []);
  assert.equal(f?.rule, 'not-consumed');
  assert.equal(f?.spanId, ID.apiEnqueue);
  assert.deepEqual(
    reads.filter((id) => id === trace),
    [],
  );
});
