/** Contract: service-map edges between services and queues, with call and error counts and p99. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes, Span, SpanKind } from '@linktrace/model';
import { span, spanIdOf, startRecordOf, T0, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';
import { searchWorld, SECOND, startOf } from './search-world.js';

const SHOP = { 'linktrace.entity.type': 'shop', 'linktrace.entity.key': '42', 'linktrace.entity.version': 7 };

/**
 * Shop-sync trace `n` (examples/shop-sync): merchant-api → mq:shop-changed → sync-worker (mysql,
 * redis, http) → shop-query. shop-query's receive takes n ms and fails for every tenth trace.
 */
export function shopSyncTrace(n: number): Span[] {
  const t = traceIdOf(n);
  const at = T0 + n * SECOND;
  const hop = (k: number, parent: number | undefined, service: string, kind: SpanKind, atMs: number, ms: number, stage: string, target?: string, over: Partial<Span> = {}): Span => {
    const attributes: Attributes = { 'linktrace.stage': stage, ...SHOP };
    if (target !== undefined) attributes['linktrace.target'] = target;
    const s = span({ traceId: t, spanId: spanIdOf(n, k), service, name: `${stage} ${target ?? ''}`, kind, startUs: at + atMs * 1000, durationUs: ms * 1000, attributes, ...over });
    if (parent !== undefined) s.parentSpanId = spanIdOf(n, parent);
    return s;
  };
  return [
    hop(0, undefined, 'merchant-api', 'server', 0, 50, 'receive'),
    hop(1, 0, 'merchant-api', 'client', 5, 10, 'write', 'mysql:shop'),
    hop(2, 0, 'merchant-api', 'producer', 20, 5, 'enqueue', 'mq:shop-changed'),
    hop(3, 2, 'sync-worker', 'consumer', 100, 200, 'receive'),
    hop(4, 3, 'sync-worker', 'client', 110, 20, 'write', 'mysql:user_shop'),
    hop(5, 3, 'sync-worker', 'client', 135, 5, 'write', 'redis:shop_cache'),
    hop(6, 3, 'sync-worker', 'client', 145, 100, 'write', 'http:shop-query'),
    hop(7, 6, 'shop-query', 'server', 150, n, 'receive', undefined, { status: { code: n % 10 === 0 ? 'error' : 'unset' } }),
    hop(8, 7, 'shop-query', 'internal', 160, 1, 'write', 'memory:shop_cache'),
  ];
}

export function serviceMapContract(create: CreateContractStore): void {
  describe('service map', () => {
    it('shop-sync: producer → queue → consumer, client → server; counts, errors and nearest-rank p99 over many traces', async () => {
      await withStore(create, async (store) => {
        // Two batches: a store may start keeping frequent attributes elsewhere between them.
        const first: Span[] = [];
        for (let n = 1; n <= 150; n++) first.push(...shopSyncTrace(n));
        await store.writeSpans(first);
        const second: Span[] = [];
        for (let n = 151; n <= 200; n++) second.push(...shopSyncTrace(n));
        await store.writeSpans(second);
        // Start records of some traces, stored besides their end records: each span counts once.
        await store.writeSpans(shopSyncTrace(3).concat(shopSyncTrace(160)).map(startRecordOf));
        assert.deepStrictEqual(await store.serviceMapRows(startOf(0), startOf(201)), [
          { from: 'merchant-api', to: 'mq:shop-changed', callCount: 200, errorCount: 0, p99Us: 5000 },
          { from: 'mq:shop-changed', to: 'sync-worker', callCount: 200, errorCount: 0, p99Us: 200_000 },
          { from: 'sync-worker', to: 'shop-query', callCount: 200, errorCount: 20, p99Us: 198_000 },
        ]);
        // Only spans starting in the window count.
        assert.deepStrictEqual(await store.serviceMapRows(startOf(1), startOf(10) + 120_000), [
          { from: 'merchant-api', to: 'mq:shop-changed', callCount: 10, errorCount: 0, p99Us: 5000 },
          { from: 'mq:shop-changed', to: 'sync-worker', callCount: 10, errorCount: 0, p99Us: 200_000 },
          { from: 'sync-worker', to: 'shop-query', callCount: 9, errorCount: 0, p99Us: 9000 },
        ]);
        assert.deepStrictEqual(await store.serviceMapRows(startOf(500), startOf(600)), []);
      });
    });

    it('links services like dependencies do when no queue is named (shared halves, links, untraced peers)', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans(searchWorld());
        assert.deepStrictEqual(await store.serviceMapRows(startOf(0), startOf(10)), [
          { from: 'frontend', to: 'billing', callCount: 2, errorCount: 0, p99Us: 2000 },
          { from: 'frontend', to: 'shop-api', callCount: 2, errorCount: 1, p99Us: 15_000 },
          { from: 'gateway', to: 'users', callCount: 1, errorCount: 0, p99Us: 8000 },
          { from: 'shop-api', to: 'mysql', callCount: 1, errorCount: 0, p99Us: 1000 },
        ]);
      });
    });

    it('a consumer reaches the queue through a link; messaging.destination.name names it; a nested producer is one message', async () => {
      await withStore(create, async (store) => {
        const p = traceIdOf(1);
        const c = traceIdOf(2);
        await store.writeSpans([
          span({ traceId: p, spanId: spanIdOf(1, 0), service: 'orders', kind: 'producer', startUs: startOf(1), durationUs: 1000, attributes: { 'messaging.destination.name': 'order-placed' } }),
          span({
            traceId: c, spanId: spanIdOf(2, 0), service: 'billing', kind: 'consumer', startUs: startOf(2), durationUs: 7000, status: { code: 'error' },
            links: [{ traceId: p, spanId: spanIdOf(1, 0) }],
          }),
          // An enqueue stage around a client library's producer span: the same message.
          span({ traceId: traceIdOf(3), spanId: spanIdOf(3, 0), service: 'api', kind: 'internal', startUs: startOf(3), durationUs: 3000, attributes: { 'linktrace.stage': 'enqueue', 'linktrace.target': 'mq:jobs' } }),
          span({ traceId: traceIdOf(3), spanId: spanIdOf(3, 1), parentSpanId: spanIdOf(3, 0), service: 'api', kind: 'producer', startUs: startOf(3) + 10, durationUs: 2000, attributes: { 'messaging.destination.name': 'jobs' } }),
          span({ traceId: traceIdOf(3), spanId: spanIdOf(3, 2), parentSpanId: spanIdOf(3, 1), service: 'worker', kind: 'internal', startUs: startOf(3) + 5000, durationUs: 9000, attributes: { 'linktrace.stage': 'dequeue' } }),
          // A producer writing to a store target names no queue: no edge at all.
          span({ traceId: traceIdOf(4), spanId: spanIdOf(4, 0), service: 'api', kind: 'producer', startUs: startOf(4), durationUs: 10, attributes: { 'linktrace.target': 'redis:stream' } }),
        ]);
        assert.deepStrictEqual(await store.serviceMapRows(startOf(0), startOf(10)), [
          { from: 'api', to: 'mq:jobs', callCount: 1, errorCount: 0, p99Us: 3000 },
          { from: 'mq:jobs', to: 'worker', callCount: 1, errorCount: 0, p99Us: 9000 },
          { from: 'mq:order-placed', to: 'billing', callCount: 1, errorCount: 1, p99Us: 7000 },
          { from: 'orders', to: 'mq:order-placed', callCount: 1, errorCount: 0, p99Us: 1000 },
        ]);
      });
    });

    it('an open call counts with no duration yet (p99 0 until one ends)', async () => {
      await withStore(create, async (store) => {
        const t = traceIdOf(1);
        await store.writeSpans([
          span({ traceId: t, spanId: spanIdOf(1, 0), service: 'web', kind: 'client', startUs: startOf(1) }),
          startRecordOf(span({ traceId: t, spanId: spanIdOf(1, 1), parentSpanId: spanIdOf(1, 0), service: 'api', kind: 'server', startUs: startOf(1) + 10 })),
        ]);
        assert.deepStrictEqual(await store.serviceMapRows(startOf(0), startOf(10)), [{ from: 'web', to: 'api', callCount: 1, errorCount: 0, p99Us: 0 }]);
      });
    });

    it('inferred calls (linktrace.inferred = true) are rows of their own beside recorded calls between the same services', async () => {
      await withStore(create, async (store) => {
        const recorded = traceIdOf(1);
        const inferred = traceIdOf(2);
        const mark = { 'linktrace.inferred': true, 'linktrace.inferred.confidence': 0.9 };
        await store.writeSpans([
          span({ traceId: recorded, spanId: spanIdOf(1, 0), service: 'web', kind: 'server', startUs: startOf(1), durationUs: 9000 }),
          span({ traceId: recorded, spanId: spanIdOf(1, 1), parentSpanId: spanIdOf(1, 0), service: 'api', kind: 'server', startUs: startOf(1) + 10, durationUs: 2000 }),
          span({ traceId: inferred, spanId: spanIdOf(2, 0), service: 'web', kind: 'server', startUs: startOf(2), durationUs: 9000, attributes: mark }),
          span({ traceId: inferred, spanId: spanIdOf(2, 1), parentSpanId: spanIdOf(2, 0), service: 'web', kind: 'client', startUs: startOf(2) + 5, durationUs: 4000, attributes: mark }),
          span({ traceId: inferred, spanId: spanIdOf(2, 2), parentSpanId: spanIdOf(2, 1), service: 'api', kind: 'server', startUs: startOf(2) + 10, durationUs: 3000, attributes: mark }),
          span({ traceId: inferred, spanId: spanIdOf(2, 3), parentSpanId: spanIdOf(2, 0), service: 'web', kind: 'client', startUs: startOf(2) + 20, durationUs: 1000, attributes: mark, remote: { service: 'payments' } }),
        ]);
        assert.deepStrictEqual(await store.serviceMapRows(startOf(0), startOf(10)), [
          { from: 'web', to: 'api', callCount: 1, errorCount: 0, p99Us: 2000 },
          { from: 'web', to: 'api', callCount: 1, errorCount: 0, p99Us: 3000, inferred: true },
          { from: 'web', to: 'payments', callCount: 1, errorCount: 0, p99Us: 1000, inferred: true },
        ]);
        // Dependencies (the Zipkin shape) add them up, with no extra field.
        assert.deepStrictEqual(await store.dependencies(startOf(0), startOf(10)), [
          { parent: 'web', child: 'api', callCount: 2, errorCount: 0 },
          { parent: 'web', child: 'payments', callCount: 1, errorCount: 0 },
        ]);
      });
    });

    it('refuses a window that is not two finite numbers', async () => {
      await withStore(create, async (store) => {
        await rejectsInput(store.serviceMapRows(Number.NaN, 1), 'invalid_query', 'startUs');
        await rejectsInput(store.serviceMapRows(0, '1' as unknown as number), 'invalid_query', 'endUs');
      });
    });
  });
}
