import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openEmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { ConfigError } from '../src/config.js';
import type { CheckerStatus } from '../src/checker/chain-checker.js';
import { eventually, newTraceId, postSpans, shopSync } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

void test('a full buffer refuses new traces: counted on /healthz and /metrics, the open trace is still checked', async () => {
  const dir = tempDir('lt-checker-overflow-');
  const store = await openEmbeddedStore({ dataDir: dir });
  const app = await buildApp({ store, dataDir: dir, checker: { checkDelayMs: 300, maxOpenTraces: 1, maxSpansPerTrace: 5 } });
  try {
    const [a, b] = [newTraceId(), newTraceId()];
    await postSpans(app, shopSync(a));
    await postSpans(app, shopSync(b));
    const health = async (): Promise<CheckerStatus> => (JSON.parse((await app.inject({ method: 'GET', url: '/healthz' })).body) as { checker: CheckerStatus }).checker;
    const during = await eventually(async () => {
      const h = await health();
      return h.droppedTraces > 0 ? h : undefined;
    }, 2000, 'the overflow');
    assert.equal(during.openTraces, 1);
    assert.equal(during.droppedTraces, 1);
    // 9 spans each: 4 of the open trace beyond its cap, all 9 of the refused one.
    assert.equal(during.droppedSpans, 13);
    assert.equal(during.openSpans, 5);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^linktrace_checker_dropped_traces_total 1$/m);
    assert.match(metrics, /^linktrace_checker_dropped_spans_total 13$/m);
    assert.match(metrics, /^linktrace_checker_open_traces 1$/m);
    // The open trace is read back whole from the store: the spans the buffer refused still count.
    await eventually(async () => ((await health()).checkedTraces === 1 ? true : undefined), 2000, 'the open trace checked');
    assert.deepEqual(await store.findFindings({ traceId: a }), []);
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
