/**
 * Contract: a search hit summarises every stored record of its trace, however they were written —
 * over several writes, start record and end record apart, a span sent twice, part of a trace cut
 * by retention, and after reopening. (A backend may keep summaries as it writes; they must not drift.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { span, spanIdOf, startRecordOf, T0, traceIdOf } from './contract-spans.js';
import { withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';

const tid = traceIdOf(41);
const root = span({ traceId: tid, spanId: spanIdOf(41, 0), service: 'gateway', name: 'GET /a', kind: 'server', startUs: T0 + 1_000, durationUs: 5_000 });
const child = span({ traceId: tid, spanId: spanIdOf(41, 1), parentSpanId: root.spanId, service: 'users', name: 'load', startUs: T0 + 2_000, durationUs: 1_000 });
const failing = span({
  traceId: tid,
  spanId: spanIdOf(41, 2),
  parentSpanId: root.spanId,
  service: 'billing',
  name: 'charge',
  startUs: T0 + 3_000,
  durationUs: 9_000,
  status: { code: 'error', message: 'declined' },
});

export function summaryContract(create: CreateContractStore): void {
  describe('search summaries across writes', () => {
    it('summarises a trace written over three writes once, with merged counts (a late span starting first included)', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans([child]);
        await store.writeSpans([failing]);
        await store.writeSpans([root]);
        const hits = await store.findTraces({ service: 'users' });
        assert.deepStrictEqual(hits, [
          {
            traceId: tid,
            startUs: T0 + 1_000,
            durationUs: 11_000,
            spanCount: 3,
            errorCount: 1,
            services: ['billing', 'gateway', 'users'],
            root: { service: 'gateway', name: 'GET /a' },
            findingCount: 0,
          },
        ]);
      });
    });

    it('counts a start record and its later end record as one span, with the end record’s status and duration', async () => {
      await withStore(create, async (store) => {
        const start = { ...startRecordOf(failing), name: 'charge (starting)' };
        await store.writeSpans([root, start]);
        let [hit] = await store.findTraces({ service: 'billing' });
        assert.deepStrictEqual([hit!.spanCount, hit!.errorCount, hit!.durationUs], [2, 0, 5_000], 'the start record counts with its start only');
        await store.writeSpans([failing]);
        [hit] = await store.findTraces({ service: 'billing' });
        assert.deepStrictEqual([hit!.spanCount, hit!.errorCount, hit!.durationUs], [2, 1, 11_000]);
      });
    });

    it('counts a span sent twice once, and a root arriving after its children names the root', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans([child, failing]);
        let [hit] = await store.findTraces({});
        assert.equal(hit!.root, undefined, 'no span without a parent yet');
        await store.writeSpans([child, root]);
        [hit] = await store.findTraces({});
        assert.deepStrictEqual([hit!.spanCount, hit!.errorCount, hit!.root], [3, 1, { service: 'gateway', name: 'GET /a' }]);
      });
    });

    it('summarises what retention left of a trace, and drops a trace it removed', async () => {
      // Retention counts by arrival (the store's clock): `other` and `root` arrive a day before the rest.
      let nowMs = 1_796_083_200_000;
      await withStore(
        create,
        async (store) => {
          const other = span({ traceId: traceIdOf(40), spanId: spanIdOf(40, 0), startUs: T0 });
          await store.writeSpans([other, root]);
          nowMs += 86_400_000;
          await store.writeSpans([child, failing]);
          await store.deleteBefore((nowMs - 3_600_000) * 1000);
          const hits = await store.findTraces({});
          assert.deepStrictEqual(
            hits.map((h) => [h.traceId, h.startUs, h.durationUs, h.spanCount, h.errorCount, h.services, h.root]),
            [[tid, T0 + 2_000, 10_000, 2, 1, ['billing', 'users'], undefined]],
          );
        },
        { clock: () => nowMs },
      );
    });

    it('keeps summaries across a reopen, and later writes still merge into them', async (t) => {
      await withStore(create, async (store, handle) => {
        if (handle.reopen === undefined) {
          t.skip('backend keeps nothing across instances');
          return;
        }
        await store.writeSpans([root, child]);
        await store.close();
        const again = await handle.reopen();
        await again.writeSpans([failing]);
        const [hit] = await again.findTraces({ service: 'gateway' });
        assert.deepStrictEqual([hit!.spanCount, hit!.errorCount, hit!.services], [3, 1, ['billing', 'gateway', 'users']]);
      });
    });
  });
}
