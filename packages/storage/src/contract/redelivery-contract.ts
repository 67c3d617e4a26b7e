/**
 * Contract: a batch written again reads as if written once (DESIGN §8: at-least-once delivery from
 * NATS JetStream, idempotent storage). An ingester whose acknowledgement was lost gets the batch
 * again and writes it again, later; a sender that retried a refused request sends spans already
 * stored. Every read (trace by id, search summaries, services, operations, dependencies, the
 * service map) answers as after the first write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpanStore } from '../types.js';
import { withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';
import { searchWorld, startOf, worldTrace } from './search-world.js';

async function reads(store: SpanStore): Promise<unknown> {
  const ids = [1, 2, 3, 4, 5, 6, 7].map(worldTrace);
  return {
    traces: await store.getTraces(ids),
    hits: await store.findTraces({ limit: 100 }),
    byService: await store.findTraces({ service: 'shop-api' }),
    services: await store.services(),
    operations: await store.operations('frontend'),
    dependencies: await store.dependencies(startOf(0), startOf(10)),
    serviceMap: await store.serviceMapRows(startOf(0), startOf(10)),
  };
}

export function redeliveryContract(create: CreateContractStore): void {
  describe('redelivery', () => {
    it('reads a batch written twice, and part of it a third time, as written once', async () => {
      let nowMs = 1_796_083_200_000;
      await withStore(
        create,
        async (store) => {
          const world = searchWorld();
          await store.writeSpans(world);
          const once = await reads(store);
          nowMs += 60_000;
          await store.writeSpans(world);
          nowMs += 60_000;
          await store.writeSpans(world.slice(0, Math.ceil(world.length / 2)));
          assert.deepStrictEqual(await reads(store), once);
        },
        { clock: () => nowMs },
      );
    });
  });
}
