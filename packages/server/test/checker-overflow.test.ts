import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openEmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { ConfigError } from '../src/config.js';
import type { CheckerStatus } from '../src/checker/chain-checker.js';
import { ID, advanceAndCheck, duplicateOf, manualClock, newTraceId, postSpans, shopSync } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

void test('a full buffer refuses new traces: counted on /healthz and /metrics; the open trace and the refused one are still checked, from the store', async () => {
  const dir = tempDir('lt-checker-overflow-');
  const store = await openEmbeddedStore({ dataDir: dir });
  const clock = manualClock();
  const app = await buildApp({ store, dataDir: dir, clock: clock.now, checker: { checkDelayMs: 300, maxOpenTraces: 1, maxSpansPerTrace: 5 } });
  try {
    const [a, b] = [newTraceId(), newTraceId()];
    await postSpans(app, shopSync(a, 1000, clock.now()));
    // The refused trace has a fault (its write ran twice): its check must still happen.
    const refused = shopSync(b, 1000, clock.now());
    refused.push(duplicateOf(refused, ID.workerMysql, 'b0000000000000fe'));
    await postSpans(app, refused);
    const health = async (): Promise<CheckerStatus> => (JSON.parse((await app.inject({ method: 'GET', url: '/healthz' })).body) as { checker: CheckerStatus }).checker;
    // Everything stored, nothing due yet.
    await advanceAndCheck(app, clock, 0);
    const during = await health();
    assert.equal(during.openTraces, 1);
    assert.equal(during.droppedTraces, 1);
    // 9 spans of the open trace (4 beyond its cap), all 10 of the refused one.
    assert.equal(during.droppedSpans, 14);
    assert.equal(during.openSpans, 5);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^linktrace_checker_dropped_traces_total 1$/m);
    // The refused trace waits for its check from the store.
    assert.match(metrics, /^linktrace_checker_pending_rechecks 1$/m);
    assert.equal(during.pendingRechecks, 1);
    assert.match(metrics, /^linktrace_checker_dropped_spans_total 14$/m);
    assert.match(metrics, /^linktrace_checker_open_traces 1$/m);
    // Both are read back whole from the store: the spans the buffer refused still count.
    await advanceAndCheck(app, clock, 300);
    const after = await health();
    assert.equal(after.checkedTraces, 2);
    assert.equal(after.readBack, 2);
    assert.deepEqual(await store.findFindings({ traceId: a }), []);
    assert.deepEqual(
      (await store.findFindings({ traceId: b })).map((f) => f.rule),
      ['duplicate-write'],
    );
    assert.equal((await health()).openTraces, 0);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('bad checker options are refused at build time; a store without findings cannot run the checker', async () => {
  const dir = tempDir('lt-checker-options-');
  try {
    const store = await openEmbeddedStore({ dataDir: dir });
    try {
      await assert.rejects(buildApp({ store, dataDir: dir, checker: { checkDelayMs: 0 } }), ConfigError);
      await assert.rejects(buildApp({ store, dataDir: dir, checker: { checkDelayMs: 1000, maxWaitMs: 500 } }), /shorter than the check delay/);
      const ingestOnly = { writeSpans: store.writeSpans.bind(store), stats: store.stats.bind(store), deleteBefore: store.deleteBefore.bind(store), close: () => Promise.resolve() };
      await assert.rejects(buildApp({ store: ingestOnly, dataDir: dir, checker: {} }), /needs a store that reads traces and stores findings/);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
