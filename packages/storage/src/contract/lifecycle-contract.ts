/** Contract: reopening the same storage, concurrent use, stats and close (retention: retention-contract.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { StoreClosedError } from '../storage-error.js';
import type { Finding } from '../types.js';
import { fullSpan, span, spanIdOf, startRecordOf, T0, traceIdOf } from './contract-spans.js';
import { withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';
import { searchWorld, startOf, worldTrace } from './search-world.js';

const finding = (n: number, timeUs: number): Finding => ({
  traceId: traceIdOf(n),
  rule: 'unfinished-span',
  service: 'svc',
  spanId: spanIdOf(n, 0),
  message: `span of trace ${n} never ended`,
  timeUs,
});

export function lifecycleContract(create: CreateContractStore): void {
  describe('reopen', () => {
    it('finds everything again after closing and reopening the same storage', async (t) => {
      await withStore(create, async (store, handle) => {
        if (handle.reopen === undefined) {
          t.skip('this backend keeps nothing across instances');
          return;
        }
        const full = fullSpan(traceIdOf(100), spanIdOf(100, 0));
        const world = searchWorld();
        await store.writeSpans([full, ...world]);
        await store.writeFindings([finding(1, T0)]);
        const late = span({ traceId: traceIdOf(200), spanId: spanIdOf(200, 0) });
        await store.writeSpans([startRecordOf(late)]);
        const before = {
          trace: await store.getTrace(traceIdOf(100)),
          hits: await store.findTraces({ service: 'shop-api' }),
          services: await store.services(),
          deps: await store.dependencies(0, startOf(100)),
        };
        await store.close();
        const again = await handle.reopen();
        assert.deepStrictEqual(await again.getTrace(traceIdOf(100)), [full]);
        assert.deepStrictEqual(await again.findTraces({ service: 'shop-api' }), before.hits);
        // Attributes found in every place a span keeps them, as before the reopen.
        for (const [key, value, trace] of [['batch.size', 10, 4], ['link.why', 'batched', 4], ['k8s.pod', 'billing-1', 3], ['lib.flavour', 'fast', 3], ['shop.id', '43', 2]] as const) {
          assert.deepStrictEqual((await again.findTraces({ attributes: { [key]: value } })).map((h) => h.traceId), [worldTrace(trace)], key);
        }
        assert.deepStrictEqual(await again.services(), before.services);
        assert.deepStrictEqual(await again.dependencies(0, startOf(100)), before.deps);
        assert.deepStrictEqual(await again.findFindings(), [finding(1, T0)]);
        assert.deepStrictEqual(before.trace, [full]);
        // And it keeps working: an end record merges with its start record written before the reopen.
        assert.deepStrictEqual(await again.getTrace(traceIdOf(200)), [startRecordOf(late)]);
        await again.writeSpans([late]);
        assert.deepStrictEqual(await again.getTrace(traceIdOf(200)), [late]);
      });
    });
  });

  describe('concurrency', () => {
    it('serves concurrent writes and reads, and loses nothing', async () => {
      await withStore(create, async (store) => {
        const batches: Span[][] = [];
        for (let b = 0; b < 20; b++) {
          const batch: Span[] = [];
          for (let i = 0; i < 50; i++) {
            const t = b * 50 + i;
            batch.push(span({ traceId: traceIdOf(t), spanId: spanIdOf(t, 0), service: `svc-${b % 4}`, startUs: T0 + t, attributes: { batch: b, i } }));
            batch.push(span({ traceId: traceIdOf(t), spanId: spanIdOf(t, 1), parentSpanId: spanIdOf(t, 0), service: 'leaf', startUs: T0 + t + 1 }));
          }
          batches.push(batch);
        }
        const reads: Promise<unknown>[] = [];
        const writes = batches.map((batch, b) => {
          reads.push(store.getTrace(traceIdOf(b * 50)), store.findTraces({ service: `svc-${b % 4}` }), store.services());
          return store.writeSpans(batch);
        });
        await Promise.all([...writes, ...reads]);
        const traces = await store.getTraces(batches.flatMap((batch) => batch.filter((_, i) => i % 2 === 0).map((s) => s.traceId)));
        assert.equal(traces.length, 1000);
        for (const t of traces) assert.equal(t.length, 2);
        assert.equal((await store.stats()).spanRecords, 2000);
        const hits = await store.findTraces({ attributes: { batch: 7 }, limit: 100 });
        assert.equal(hits.length, 50);
        assert.deepStrictEqual(await store.services(), ['leaf', 'svc-0', 'svc-1', 'svc-2', 'svc-3']);
      });
    });
  });

  describe('stats and close', () => {
    it('counts records and findings', async () => {
      await withStore(create, async (store) => {
        const spans = [0, 1, 2].map((i) => span({ traceId: traceIdOf(1), spanId: spanIdOf(1, i) }));
        await store.writeSpans(spans);
        await store.writeFindings([finding(1, T0), finding(2, T0)]);
        const stats = await store.stats();
        assert.equal(stats.spanRecords, 3);
        assert.equal(stats.findings, 2);
        // A start record may be kept apart from its end record, or dropped when both arrive together.
        await store.writeSpans([startRecordOf(span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) }))]);
        await store.writeSpans([span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) })]);
        const after = (await store.stats()).spanRecords;
        assert.ok(after === 4 || after === 5, `${after} records`);
        assert.ok(Number.isFinite(stats.diskBytes) && stats.diskBytes >= 0);
      });
    });

    it('finishes pending writes on close, then refuses every call', async () => {
      await withStore(create, async (store) => {
        const s = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
        const pending = store.writeSpans([s]);
        await store.close();
        await pending;
        await store.close();
        const calls: (() => Promise<unknown>)[] = [
          () => store.writeSpans([s]),
          () => store.getTrace(traceIdOf(1)),
          () => store.getTraces([traceIdOf(1)]),
          () => store.findTraces({}),
          () => store.services(),
          () => store.operations('svc'),
          () => store.dependencies(0, 1),
          () => store.writeFindings([finding(1, T0)]),
          () => store.findFindings(),
          () => store.deleteBefore(0),
          () => store.stats(),
        ];
        for (const call of calls) await assert.rejects(call(), StoreClosedError);
      });
    });
  });
}
