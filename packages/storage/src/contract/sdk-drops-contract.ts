/**
 * Contract: SDK drop reports keep the latest value per (service, instance), across a reopen, and
 * leave with retention once received before its cutoff.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SdkDropReport } from '../types.js';
import { T0 } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';

const report = (service: string, instance: string, droppedSpans: number, at: number): SdkDropReport => ({
  service,
  instance,
  droppedSpans,
  reportedUs: T0 + at,
});

export function sdkDropsContract(create: CreateContractStore): void {
  describe('SDK drop reports', () => {
    it('keeps the latest report per service instance, sorted, and an earlier report does not win', async () => {
      await withStore(create, async (store) => {
        assert.deepStrictEqual(await store.sdkDrops(), []);
        await store.recordSdkDrops([report('shop', '10.0.0.2:80', 5, 10), report('cart', '10.0.0.1:80', 0, 10), report('shop', '10.0.0.1:80', 3, 10)]);
        await store.recordSdkDrops([report('shop', '10.0.0.1:80', 7, 20), report('shop', '10.0.0.1:80', 9, 30)]);
        await store.recordSdkDrops([report('shop', '10.0.0.2:80', 1, 5)]);
        assert.deepStrictEqual(await store.sdkDrops(), [
          report('cart', '10.0.0.1:80', 0, 10),
          report('shop', '10.0.0.1:80', 9, 30),
          report('shop', '10.0.0.2:80', 5, 10),
        ]);
      });
    });

    it('a report with no instance is kept under the instance ""', async () => {
      await withStore(create, async (store) => {
        await store.recordSdkDrops([report('job', '', 3000, 1)]);
        assert.deepStrictEqual(await store.sdkDrops(), [report('job', '', 3000, 1)]);
      });
    });

    it('survives a reopen', async (t) => {
      await withStore(create, async (store, handle) => {
        if (handle.reopen === undefined) return t.skip('the backend keeps nothing across instances');
        await store.recordSdkDrops([report('shop', 'h:1', 12, 1)]);
        await store.close();
        const again = await handle.reopen();
        assert.deepStrictEqual(await again.sdkDrops(), [report('shop', 'h:1', 12, 1)]);
      });
    });

    it('retention removes the reports received before the cutoff (counted), keeps the others and the spans\' own count', async () => {
      await withStore(create, async (store) => {
        await store.recordSdkDrops([report('shop', 'a:1', 4, 10), report('shop', 'b:1', 2, 20), report('cart', 'c:1', 0, 30)]);
        // A later report of a:1 moves its received time past the cutoff: it stays.
        await store.recordSdkDrops([report('shop', 'a:1', 6, 40)]);
        const result = await store.deleteBefore(T0 + 25);
        assert.deepStrictEqual(result, { spans: 0, findings: 0, sdkDropReports: 1 });
        assert.deepStrictEqual(await store.sdkDrops(), [report('cart', 'c:1', 0, 30), report('shop', 'a:1', 6, 40)]);
        assert.deepStrictEqual(await store.deleteBefore(T0 + 25), { spans: 0, findings: 0, sdkDropReports: 0 }, 'a second run finds nothing more');
      });
    });

    it('refuses malformed reports whole', async () => {
      await withStore(create, async (store) => {
        for (const [bad, field] of [
          [{ ...report('s', 'i', 1, 1), service: '' }, 'reports[0].service'],
          [{ ...report('s', 'i', 1, 1), instance: undefined }, 'reports[0].instance'],
          [{ ...report('s', 'i', 1, 1), droppedSpans: -1 }, 'reports[0].droppedSpans'],
          [{ ...report('s', 'i', 1, 1), droppedSpans: 1.5 }, 'reports[0].droppedSpans'],
          [{ ...report('s', 'i', 1, 1), reportedUs: Number.NaN }, 'reports[0].reportedUs'],
        ] as const) {
          await rejectsInput(store.recordSdkDrops([bad as unknown as SdkDropReport]), 'invalid_sdk_drops', field);
        }
        await rejectsInput(store.recordSdkDrops('x' as never), 'invalid_sdk_drops', 'reports');
        assert.deepStrictEqual(await store.sdkDrops(), []);
      });
    });
  });
}
