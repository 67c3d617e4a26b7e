/**
 * One memory budget (`maxMemoryBytes`, `--max-memory`) for the ingest backlog and the chain checker:
 * with a budget of a few hundred KB, the checker stops holding spans once its half is full and checks
 * those traces from the store (every trace is still checked, a fault in an unheld part is still
 * found), /healthz says `degraded` and why, and it holds spans again once its checks let go of them.
 * A backlog over what the checker leaves is refused with 429. Moved by a manual clock, never timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { defaultMemoryBudget } from '../src/memory-budget.js';
import type { HealthStatus } from '../src/routes/health-check.js';
import type { CheckerStatus } from '../src/checker/chain-checker.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { ID, advanceAndCheck, duplicateOf, manualClock, newTraceId, postSpans, shopSync } from './checker-traces.js';
import { errorCode, get, post, withApp } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;
const BUDGET = 256 * 1024;

void test('at its share of the memory budget the checker checks from the store: every trace checked, /healthz degraded with the reason, holding again after', async () => {
  const dir = tempDir('lt-memory-budget-');
  const store = await openEmbeddedStore({ dataDir: dir });
  const clock = manualClock();
  const app = await buildApp({
    store,
    dataDir: dir,
    clock: clock.now,
    maxMemoryBytes: BUDGET,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  const health = async (): Promise<HealthStatus & { checker: CheckerStatus }> => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as HealthStatus & { checker: CheckerStatus };
  };
  const trace = (id: string): Span[] => shopSync(id, 1000, clock.now());
  try {
    assert.equal((await health()).status, 'ok');
    // Held while there is room: a trace whose duplicate write comes later, once nothing is held.
    const split = newTraceId();
    const splitSpans = trace(split);
    await postSpans(app, splitSpans);
    await app.linktrace.pipeline.idle();
    assert.equal(app.linktrace.checker!.status().unheldSpans, 0);
    // Healthy traces, five per request, until the checker's half of the budget is full.
    const healthy: string[] = [];
    while (app.linktrace.checker!.status().unheldSpans === 0) {
      assert.ok(healthy.length < 200, 'the checker never stopped holding spans');
      const ids = Array.from({ length: 5 }, () => newTraceId());
      healthy.push(...ids);
      await postSpans(app, ids.flatMap(trace));
      await app.linktrace.pipeline.idle();
    }
    // Not held: the split trace's duplicate write, a whole trace with one, and the first part of a
    // trace that keeps going (its duplicate write comes half a check delay later).
    const unheld = newTraceId();
    const unheldSpans = trace(unheld);
    unheldSpans.push(duplicateOf(unheldSpans, ID.workerMysql, 'b0000000000000fe'));
    const going = newTraceId();
    const goingSpans = trace(going);
    await postSpans(app, [duplicateOf(splitSpans, ID.workerMysql, 'b0000000000000fd'), ...unheldSpans, ...goingSpans]);
    await app.linktrace.pipeline.idle();

    const during = await health();
    assert.equal(during.status, 'degraded');
    assert.match(during.reason ?? '', /memory budget: the chain checker .* checks traces from the store/);
    assert.equal(during.memory?.limitBytes, BUDGET);
    assert.equal(during.memory?.checkerHolding, false);
    assert.ok(during.checker.heldBytes <= BUDGET / 2, `the checker holds ${during.checker.heldBytes} bytes`);
    assert.equal(during.memory?.checkerBytes, during.checker.heldBytes);
    const unheldCount = 5 * splitSpans.length + 1 + unheldSpans.length + goingSpans.length;
    assert.equal(during.checker.unheldSpans, unheldCount, 'a request of five traces, the duplicate write, the last two traces');
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^linktrace_checker_store_mode 1$/m);
    assert.match(metrics, new RegExp(`^linktrace_memory_budget_bytes ${BUDGET}$`, 'm'));
    assert.match(metrics, /^linktrace_memory_used_bytes\{part="checker"\} [1-9]\d*$/m);
    assert.match(metrics, new RegExp(`^linktrace_checker_unheld_spans_total ${during.checker.unheldSpans}$`, 'm'));

    await advanceAndCheck(app, clock, CHECK_DELAY_MS / 2);
    await postSpans(app, [duplicateOf(goingSpans, ID.workerMysql, 'b0000000000000fc')]);
    await advanceAndCheck(app, clock, CHECK_DELAY_MS / 2);
    const after = await health();
    // Every trace checked once. Read back from the store whole: the traces with unheld spans (the
    // request of five that found the share full, and the two after it).
    assert.equal(after.checker.checkedTraces, healthy.length + 2);
    assert.equal(after.checker.readBack, 5 + 2);
    assert.equal(after.checker.unheldSpans, unheldCount + 1);
    // The trace that kept going is not held either, and waits to be quiet as a held one would.
    assert.deepEqual(await store.findFindings({ traceId: going }), []);
    await advanceAndCheck(app, clock, CHECK_DELAY_MS / 2);
    assert.equal(app.linktrace.checker!.status().checkedTraces, healthy.length + 3);
    assert.deepEqual((await store.findFindings({ traceId: going })).map((f) => f.rule), ['duplicate-write'], 'checked whole, from the store');
    assert.deepEqual((await store.findFindings({ traceId: split })).map((f) => f.rule), ['duplicate-write']);
    assert.deepEqual((await store.findFindings({ traceId: unheld })).map((f) => f.rule), ['duplicate-write']);
    assert.deepEqual(await store.findFindings({ traceId: healthy[0]! }), []);
    // The checks let go of the spans: holding again, and healthy.
    assert.equal(after.status, 'ok', after.reason);
    assert.equal(after.reason, undefined);
    assert.equal(after.memory?.checkerHolding, true);
    const unheldBefore = after.checker.unheldSpans;
    await postSpans(app, trace(newTraceId()));
    await app.linktrace.pipeline.idle();
    assert.equal(app.linktrace.checker!.status().unheldSpans, unheldBefore, 'held again');
    assert.equal(app.linktrace.checker!.status().openTraces, 1);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a backlog over the memory budget is refused with 429 overloaded, naming the budget; accepted again once stored', async () => {
  const store = new MemoryStore();
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  store.gate = () => opened;
  // 9 spans of 30 KB text each: about 300 KB of backlog per request, over a 256 KB budget.
  const body = (n: number): string => JSON.stringify(encodeNativeJson(shopSync(newTraceId()).map((s, i) => ({ ...s, spanId: `${n}`.padStart(8, '0') + `${i}`.padStart(8, '0'), attributes: { ...s.attributes, note: 'x'.repeat(30_000) } }))));
  await withApp({ store, maxMemoryBytes: BUDGET }, async ({ app, url }) => {
    const json = { 'content-type': 'application/json' };
    // An empty backlog takes any batch, so a request larger than the budget is not refused forever.
    assert.equal((await post(`${url}/api/v1/spans`, body(1), json)).status, 200);
    const refused = await post(`${url}/api/v1/spans`, body(2), json);
    assert.equal(refused.status, 429);
    assert.equal(errorCode(refused), 'overloaded');
    assert.match((refused.json() as { error: { message: string } }).error.message, /memory budget is full/);
    assert.equal(refused.headers.get('retry-after'), '1');
    const h = (await get(`${url}/healthz`)).json() as HealthStatus;
    assert.ok((h.memory?.backlogBytes ?? 0) > 0);
    assert.equal(h.memory?.limitBytes, BUDGET);
    store.gate = undefined;
    open();
    await app.linktrace.pipeline.idle();
    assert.equal(app.linktrace.memory.status().backlogBytes, 0, 'stored spans leave the budget');
    assert.equal((await post(`${url}/api/v1/spans`, body(3), json)).status, 200, 'accepted again');
  });
});

void test('--max-memory sets the budget; without it the budget comes from the machine; a bad size is refused', async () => {
  assert.equal(parseServeFlags({ maxMemory: '512mb', ui: false }).maxMemoryBytes, 512 * 1024 * 1024);
  assert.equal(parseServeFlags({ ui: false }).maxMemoryBytes, undefined);
  assert.throws(() => parseServeFlags({ maxMemory: 'lots' }), /--max-memory: "lots" is not a size/);
  assert.throws(() => parseServeFlags({ maxMemory: '32mb' }), /--max-memory: 32mb is less than 64mb/);
  const fallback = defaultMemoryBudget();
  assert.ok(Number.isSafeInteger(fallback) && fallback > 0 && fallback <= totalmem() / 8, String(fallback));
  assert.ok(fallback <= getHeapStatistics().heap_size_limit / 8, String(fallback));
  await withApp({ store: new MemoryStore() }, ({ app }) => {
    assert.equal(app.linktrace.memory.limitBytes, fallback);
    return Promise.resolve();
  });
});
