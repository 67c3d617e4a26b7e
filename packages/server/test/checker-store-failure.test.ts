import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openEmbeddedStore } from '@linktrace/storage';
import { ChainChecker } from '../src/checker/chain-checker.js';
import { resolveChecker } from '../src/checker/checker-options.js';
import type { CheckerStore } from '../src/checker/checker-store.js';
import { ID, duplicateOf, manualClock, newTraceId, shopSync } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

void test('a round stores its findings in one write; when that fails its traces go back and are checked and stored once the store answers again', async () => {
  const dir = tempDir('lt-checker-store-failure-');
  const store = await openEmbeddedStore({ dataDir: dir });
  let refuse = 2;
  const writes: number[] = [];
  const flaky: CheckerStore = {
    getTraces: (ids) => store.getTraces(ids),
    findTraces: (q) => store.findTraces(q),
    findFindings: (f) => store.findFindings(f),
    replaceFindings: (ids, findings) => {
      writes.push(ids.length);
      if (refuse > 0) {
        refuse--;
        return Promise.reject(new Error('store unreachable'));
      }
      return store.replaceFindings(ids, findings);
    },
  };
  const clock = manualClock();
  let failedRounds = 0;
  const warnings: string[] = [];
  const checker = new ChainChecker({
    store: flaky,
    options: resolveChecker({ checkDelayMs: 100 }),
    dataDir: dir,
    warn: (line) => warnings.push(line),
    observer: { failed: () => failedRounds++, checked: () => {}, found: () => {} },
    clock: clock.now,
  });
  try {
    // 250 traces in one round (more than one part of 200): one written twice (a finding), the rest healthy.
    const bad = newTraceId();
    const badSpans = shopSync(bad, 5000);
    badSpans.push(duplicateOf(badSpans, ID.workerMysql, 'b0000000000000fe'));
    const good = Array.from({ length: 249 }, () => newTraceId());
    const all = [...badSpans, ...good.flatMap((id) => shopSync(id, 5000))];
    await store.writeSpans(all);
    await checker.start();
    checker.spansStored(all);
    // Two rounds fail; each puts the traces back, due again after the check delay.
    for (let round = 1; round <= 2; round++) {
      clock.advance(100);
      await checker.checkNow();
      assert.equal(failedRounds, round);
      assert.equal(checker.status().checkedTraces, 0);
    }
    clock.advance(100);
    await checker.checkNow();
    const status = checker.status();
    assert.equal(status.checkedTraces, 250);
    assert.equal(status.openTraces, 0);
    assert.equal(failedRounds, 2);
    // The first round held all 250 (two parts of reads and checks) and wrote them at once.
    assert.equal(writes[0], 250, `writes of ${writes.join(', ')} trace ids`);
    assert.equal(status.lastError, undefined);
    assert.match(warnings[0] ?? '', /check failed, retrying later: store unreachable/);
    assert.deepEqual(
      (await store.findFindings({ traceId: bad })).map((f) => f.rule),
      ['duplicate-write'],
    );
    assert.deepEqual(await store.findFindings({ traceId: good[0]! }), []);
    assert.deepEqual(await store.findFindings({ traceId: good[248]! }), []);
    // Counted once, though the round ran three times.
    assert.equal(status.findings, 1);
  } finally {
    await checker.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
