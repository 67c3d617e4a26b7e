/**
 * Contract: retention counts from when a record ARRIVED (by the store's clock), never from the span's
 * own timestamp (DESIGN §6), and findings follow their trace. Time is moved with the clock every
 * backend takes (`ContractStoreOptions.clock`), never waited for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import type { Finding } from '../types.js';
import { sortForCompare, span, spanIdOf, startRecordOf, T0, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';
import { searchWorld, startOf, worldTrace, ZIPKIN_TRACE } from './search-world.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The store's "now" in these tests (2026-12-01): years after the spans' own times (T0 is 2024). */
const NOW_MS = 1_796_083_200_000;
const us = (ms: number): number => ms * 1000;

/** A clock the test moves by hand. */
function manualClock(startMs: number): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const finding = (traceId: string, spanId: string, timeUs: number, rule: Finding['rule'] = 'unfinished-span'): Finding => ({
  traceId,
  rule,
  service: 'svc',
  spanId,
  message: `finding on ${traceId}`,
  timeUs,
});

const sorted = (spans: readonly Span[]): Span[] => sortForCompare([...spans]);

export function retentionContract(create: CreateContractStore): void {
  describe('retention (by arrival)', () => {
    it('keeps imported history: spans with year-old timestamps written now survive a 7-day retention', async () => {
      const clock = manualClock(NOW_MS);
      await withStore(
        create,
        async (store) => {
          const world = searchWorld();
          await store.writeSpans(world);
          const kept = [finding(worldTrace(1), spanIdOf(1, 0), startOf(1)), finding(ZIPKIN_TRACE, spanIdOf(6, 0), startOf(6))];
          await store.writeFindings(kept);
          assert.deepStrictEqual(await store.deleteBefore(us(clock.now() - 7 * DAY_MS)), { spans: 0, findings: 0, sdkDropReports: 0 });
          assert.equal((await store.stats()).spanRecords, world.length);
          assert.deepStrictEqual((await store.findTraces({})).map((h) => h.traceId), [7, 6, 5, 4, 3, 2, 1].map(worldTrace));
          assert.equal((await store.findFindings()).length, kept.length);
        },
        { clock: clock.now },
      );
    });

    it('removes exactly what arrived before the cutoff, whatever the spans say about their own time', async () => {
      const clock = manualClock(NOW_MS);
      await withStore(
        create,
        async (store) => {
          const world = searchWorld();
          // Traces 5..7 (the NEWEST by their timestamps) arrive first; traces 1..4 a day later.
          const early = world.filter((s) => [5, 6, 7].some((n) => s.traceId === worldTrace(n)));
          const late = world.filter((s) => !early.includes(s));
          await store.writeSpans(early);
          clock.advance(DAY_MS);
          await store.writeSpans(late);
          clock.advance(7 * DAY_MS);
          const cutoff = us(clock.now() - 7 * DAY_MS - HOUR_MS);
          const result = await store.deleteBefore(cutoff);
          assert.deepStrictEqual(result, { spans: early.length, findings: 0, sdkDropReports: 0 });
          for (const n of [5, 6, 7]) assert.deepStrictEqual(await store.getTrace(worldTrace(n)), [], `trace ${n} arrived before the cutoff`);
          for (const n of [1, 2, 3, 4]) {
            const want = late.filter((s) => s.traceId === worldTrace(n));
            assert.deepStrictEqual(sorted(await store.getTrace(worldTrace(n))), sorted(want), `trace ${n} arrived after the cutoff`);
          }
          assert.deepStrictEqual((await store.findTraces({})).map((h) => h.traceId), [4, 3, 2, 1].map(worldTrace));
          assert.deepStrictEqual(await store.services(), ['billing', 'frontend', 'shop-api']);
          assert.deepStrictEqual((await store.dependencies(0, startOf(100))).map((d) => `${d.parent}>${d.child}`), ['frontend>billing', 'frontend>shop-api', 'shop-api>mysql']);
          assert.deepStrictEqual(await store.deleteBefore(cutoff), { spans: 0, findings: 0, sdkDropReports: 0 }, 'a second run finds nothing more');
          assert.equal((await store.stats()).spanRecords, late.length);
        },
        { clock: clock.now },
      );
    });

    it('findings follow their trace: removed with it, kept with it, whatever their own time', async () => {
      const clock = manualClock(NOW_MS);
      await withStore(
        create,
        async (store) => {
          const world = searchWorld();
          const early = world.filter((s) => s.traceId === worldTrace(7) || s.traceId === ZIPKIN_TRACE);
          const late = world.filter((s) => !early.includes(s));
          await store.writeSpans(early);
          // Findings of the early traces are written later than their spans (after the check delay).
          clock.advance(HOUR_MS);
          const removed = [
            finding(worldTrace(7), spanIdOf(7, 0), startOf(7)),
            finding(ZIPKIN_TRACE, spanIdOf(6, 0), startOf(6)),
            finding(ZIPKIN_TRACE, spanIdOf(6, 1), startOf(6), 'missing-write'),
          ];
          await store.writeFindings(removed);
          clock.advance(DAY_MS);
          await store.writeSpans(late);
          // A finding timed long before everything else, of a trace that stays.
          const kept = finding(worldTrace(1), spanIdOf(1, 0), 0);
          await store.writeFindings([kept]);
          const result = await store.deleteBefore(us(clock.now() - HOUR_MS));
          assert.deepStrictEqual(result, { spans: early.length, findings: removed.length, sdkDropReports: 0 });
          assert.deepStrictEqual(await store.findFindings(), [kept]);
          assert.deepStrictEqual(await store.findFindings({ traceId: ZIPKIN_TRACE }), []);
        },
        { clock: clock.now },
      );
    });

    it('keeps the records of a trace that arrived after the cutoff, and the trace and its finding with them', async () => {
      const clock = manualClock(NOW_MS);
      await withStore(
        create,
        async (store) => {
          const root = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0), startUs: T0, durationUs: 500 });
          const child = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 1), parentSpanId: root.spanId, startUs: T0 + 10, durationUs: 100 });
          // The child's start record arrives a day before its end record and before the root.
          await store.writeSpans([startRecordOf(child)]);
          clock.advance(DAY_MS);
          await store.writeSpans([root, child]);
          const f = finding(traceIdOf(1), child.spanId, T0);
          await store.writeFindings([f]);
          assert.deepStrictEqual(await store.deleteBefore(us(clock.now() - HOUR_MS)), { spans: 1, findings: 0, sdkDropReports: 0 });
          assert.deepStrictEqual(sorted(await store.getTrace(traceIdOf(1))), sorted([root, child]));
          assert.deepStrictEqual(await store.findFindings(), [f]);
          const [hit] = await store.findTraces({});
          assert.deepStrictEqual([hit!.traceId, hit!.spanCount, hit!.findingCount], [traceIdOf(1), 2, 1]);
        },
        { clock: clock.now },
      );
    });

    it('keeps the arrival time across a reopen (it is stored, not taken again when opened)', async (t) => {
      const clock = manualClock(NOW_MS);
      await withStore(
        create,
        async (store, handle) => {
          if (handle.reopen === undefined) {
            t.skip('this backend keeps nothing across instances');
            return;
          }
          const old = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
          await store.writeSpans([old]);
          await store.close();
          clock.advance(2 * DAY_MS);
          const again = await handle.reopen();
          const young = span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) });
          await again.writeSpans([young]);
          assert.deepStrictEqual(await again.deleteBefore(us(clock.now() - DAY_MS)), { spans: 1, findings: 0, sdkDropReports: 0 });
          assert.deepStrictEqual(await again.getTrace(traceIdOf(1)), []);
          assert.deepStrictEqual(await again.getTrace(traceIdOf(2)), [young]);
        },
        { clock: clock.now },
      );
    });

    it('counts from the arrival a writer gives (writeSpans arrivedUs), the clock for the others, even in one batch', async () => {
      const clock = manualClock(NOW_MS);
      await withStore(
        create,
        async (store) => {
          const replayed = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
          const fresh = span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) });
          const alsoReplayed = span({ traceId: traceIdOf(3), spanId: spanIdOf(3, 0) });
          const later = span({ traceId: traceIdOf(4), spanId: spanIdOf(4, 0) });
          // Written together, so a batching backend may store them in one batch: each keeps its own arrival.
          await Promise.all([
            store.writeSpans([replayed], { arrivedUs: us(NOW_MS - 3 * DAY_MS) }),
            store.writeSpans([fresh]),
            store.writeSpans([alsoReplayed], { arrivedUs: us(NOW_MS - 2 * DAY_MS) }),
            // Given explicitly, an arrival after the store's clock is taken as it is.
            store.writeSpans([later], { arrivedUs: us(NOW_MS + DAY_MS) }),
          ]);
          assert.deepStrictEqual(await store.deleteBefore(us(NOW_MS - 2 * DAY_MS - HOUR_MS)), { spans: 1, findings: 0, sdkDropReports: 0 });
          assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
          assert.deepStrictEqual(await store.deleteBefore(us(NOW_MS - HOUR_MS)), { spans: 1, findings: 0, sdkDropReports: 0 });
          assert.deepStrictEqual(await store.getTrace(traceIdOf(3)), []);
          assert.deepStrictEqual(await store.getTrace(traceIdOf(2)), [fresh]);
          assert.deepStrictEqual(await store.deleteBefore(us(NOW_MS + HOUR_MS)), { spans: 1, findings: 0, sdkDropReports: 0 });
          assert.deepStrictEqual(await store.getTrace(traceIdOf(4)), [later]);
        },
        { clock: clock.now },
      );
    });

    it('refuses an arrival that is not a non-negative integer of µs, storing nothing', async () => {
      await withStore(create, async (store) => {
        const s = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
        for (const arrivedUs of [Number.NaN, -1, 1.5, Number.MAX_VALUE]) {
          await assert.rejects(store.writeSpans([s], { arrivedUs }), RangeError, `arrivedUs ${arrivedUs}`);
        }
        assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
      });
    });

    it('refuses a cutoff that is not a finite number', async () => {
      await withStore(create, async (store) => {
        await rejectsInput(store.deleteBefore(Number.NaN), 'invalid_query');
      });
    });
  });
}
