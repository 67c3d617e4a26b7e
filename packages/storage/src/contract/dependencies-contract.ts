/** Contract: service dependency edges with call and error counts, queue edges included. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { span, spanIdOf, startRecordOf, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';
import { searchWorld, SECOND, startOf } from './search-world.js';

export function dependenciesContract(create: CreateContractStore): void {
  describe('dependencies', () => {
    it('links parent and child services, shared halves, queues (parent and link) and untraced peers', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans(searchWorld());
        assert.deepStrictEqual(await store.dependencies(startOf(0), startOf(10)), [
          // trace 3: consumer whose parent is the producer; trace 4: consumer linked to that producer.
          { parent: 'frontend', child: 'billing', callCount: 2, errorCount: 0 },
          // traces 1 and 2, the second call failed.
          { parent: 'frontend', child: 'shop-api', callCount: 2, errorCount: 1 },
          // trace 6: Zipkin client half → shared server half.
          { parent: 'gateway', child: 'users', callCount: 1, errorCount: 0 },
          // trace 1: a client span to an untraced database.
          { parent: 'shop-api', child: 'mysql', callCount: 1, errorCount: 0 },
        ]);
      });
    });

    it('counts only spans that start in the window', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans(searchWorld());
        assert.deepStrictEqual(await store.dependencies(startOf(2), startOf(2) + SECOND - 1), [
          { parent: 'frontend', child: 'shop-api', callCount: 1, errorCount: 1 },
        ]);
        assert.deepStrictEqual(await store.dependencies(startOf(20), startOf(30)), []);
      });
    });

    it('counts a span once when its start record and end record are both stored', async () => {
      await withStore(create, async (store) => {
        const world = searchWorld();
        await store.writeSpans(world);
        await store.writeSpans(world.filter((s) => s.durationUs !== undefined).map(startRecordOf));
        const deps = await store.dependencies(startOf(0), startOf(10));
        assert.deepStrictEqual(deps.find((d) => d.child === 'shop-api'), { parent: 'frontend', child: 'shop-api', callCount: 2, errorCount: 1 });
      });
    });

    it('does not link a service to itself and links a producer to a consumer of another trace only through a link', async () => {
      await withStore(create, async (store) => {
        const t = traceIdOf(1);
        await store.writeSpans([
          span({ traceId: t, spanId: spanIdOf(1, 0), service: 'a', kind: 'server', startUs: startOf(1) }),
          span({ traceId: t, spanId: spanIdOf(1, 1), parentSpanId: spanIdOf(1, 0), service: 'a', kind: 'internal', startUs: startOf(1) }),
          span({ traceId: t, spanId: spanIdOf(1, 2), parentSpanId: spanIdOf(1, 1), service: 'a', kind: 'producer', startUs: startOf(1) }),
          // A consumer in another trace with no link to the producer: no edge.
          span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0), service: 'b', kind: 'consumer', startUs: startOf(2) }),
        ]);
        assert.deepStrictEqual(await store.dependencies(startOf(0), startOf(10)), []);
      });
    });

    it('refuses a window that is not two finite numbers', async () => {
      await withStore(create, async (store) => {
        await rejectsInput(store.dependencies(Number.NaN, 1), 'invalid_query', 'startUs');
        await rejectsInput(store.dependencies(0, '1' as unknown as number), 'invalid_query', 'endUs');
      });
    });
  });
}
