import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openEmbeddedStore } from '@linktrace/storage';
import { ChainChecker } from '../src/checker/chain-checker.js';
import { resolveChecker } from '../src/checker/checker-options.js';
import type { CheckerStore } from '../src/checker/checker-store.js';
import { ID, duplicateOf, eventually, newTraceId, shopSync } from './checker-traces.js';
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
  let failedRounds = 0;
  const warnings: string[] = [];
  const checker = new ChainChecker({
    store: flaky,
    options: resolveChecker({ checkDelayMs: 100 }),
    dataDir: dir,
    warn: (line) => warnings.push(line),
    observer: { failed: () => failedRounds++, checked: () => {}, found: () => {} },
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
    const status = await eventually(() => {
      const s = checker.status();
      return Promise.resolve(s.checkedTraces === 250 && s.openTraces === 0 ? s : undefined);
    }, 5000, 'every trace checked after the store came back');
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
