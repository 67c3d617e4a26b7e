import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ATTR } from '@linktrace/model';
import { CollectingSpanProcessor } from '@linktrace/sdk';
import { startShopSync, type ShopSync } from '../src/start-shop-sync.js';
import { describeFindings, findingsOf } from './chain-findings.js';
import { assertConnected, ended, one, only, parentOf, shapes, traceIdOf, unfinished, waitFor } from './trace-helpers.js';


const SLOW_MS = 1500;

/** The healthy chain of one change, as `service stage kind [target]`, sorted. */
const HEALTHY = [
  'merchant-api enqueue producer mq:shop-changed',
  'merchant-api receive server',
  'merchant-api write client postgres:shop',
  'shop-query receive server',
  'shop-query write client memory:shop_copy',
  'sync-worker consume consumer',
  'sync-worker process internal',
  'sync-worker receive internal',
  'sync-worker write client http:shop-query',
  'sync-worker write client mysql:user_shop',
  'sync-worker write client redis:shop_cache',
].sort();

/** The same scenarios against either backend: each change uses a fresh shop id. */
export function describeShopSync(backends: 'real' | 'memory'): void {
  describe(`shop-sync with ${backends} backends`, () => {
    const collector = new CollectingSpanProcessor();
    let demo: ShopSync;
    const run = randomBytes(3).toString('hex');
    let n = 0;
    const newId = (): string => `s${run}-${++n}`;

    before(async () => {
      demo = await startShopSync({ backends, processors: [collector], slowMs: SLOW_MS });
      assert.equal(demo.backends.kind, backends);
    });
    after(async () => {
      await demo?.close();
    });

    /** Changes shop `id` and returns the id of the trace it started. */
    const change = async (id: string, open: boolean, fault?: Parameters<ShopSync['changeShop']>[2]): Promise<{ traceId: string; version: number }> => {
      const reply = await demo.changeShop(id, open, fault);
      assert.equal(reply.status, 200, reply.body);
      const { version } = JSON.parse(reply.body) as { version: number };
      const traceId = await waitFor('merchant-api receive span', () => traceIdOf(collector, id, version));
      return { traceId, version };
    };

    /** Waits until every span the trace started has ended (start records are on for every service). */
    const quiet = (traceId: string): Promise<true> => waitFor('every span of the trace ended', () => (unfinished(collector, traceId).length === 0 ? true : undefined));

    it('a healthy change reaches shop-query and forms one connected trace across all services', async () => {
      const id = newId();
      await change(id, true);
      await waitFor('first change at shop-query', async () => ((await demo.getShop(id)).status === 200 ? true : undefined));
      const { traceId, version } = await change(id, false);
      assert.equal(version, 2);
      const shop = await waitFor('closed shop at shop-query', async () => {
        const reply = await demo.getShop(id);
        const body = reply.status === 200 ? (JSON.parse(reply.body) as { open: boolean; version: number }) : undefined;
        return body?.version === 2 ? body : undefined;
      });
      assert.deepEqual(shop, { id, open: false, version: 2 });
      assert.deepEqual(await demo.backends.shops.get(id), { id, open: false, version: 2 });
      assert.deepEqual(await demo.backends.userShops.get(id), { id, open: false, version: 2 });
      assert.deepEqual(await demo.backends.cache.get(id), { id, open: false, version: 2 });

      const spans = await waitFor('all spans of the trace', () => (ended(collector, traceId).length >= HEALTHY.length ? ended(collector, traceId) : undefined));
      assert.deepEqual(shapes(spans), HEALTHY);
      assertConnected(spans, id, 2);
      assert.deepEqual(unfinished(collector, traceId), []);
      // The hops: HTTP in, queue, worker steps, notification, shop-query.
      const receive = one(spans, 'merchant-api', 'receive');
      const enqueue = one(spans, 'merchant-api', 'enqueue');
      assert.equal(parentOf(spans, one(spans, 'merchant-api', 'write')), receive);
      assert.equal(parentOf(spans, enqueue), receive);
      const consume = one(spans, 'sync-worker', 'consume');
      assert.equal(parentOf(spans, consume), enqueue);
      const workerReceive = one(spans, 'sync-worker', 'receive');
      assert.equal(parentOf(spans, workerReceive), consume);
      for (const s of [...only(spans, 'sync-worker', 'write'), one(spans, 'sync-worker', 'process')]) assert.equal(parentOf(spans, s), workerReceive);
      const notify = one(spans, 'sync-worker', 'write', 'http:shop-query');
      const queryReceive = one(spans, 'shop-query', 'receive');
      assert.equal(parentOf(spans, queryReceive), notify);
      assert.equal(parentOf(spans, one(spans, 'shop-query', 'write')), queryReceive);
      for (const s of spans) assert.equal(s.status.code === 'error', false, `${s.name} did not fail`);
      // Each service instance has its own Tracing, as separate processes would.
      const instances = new Set(spans.map((s) => s.resource?.['service.instance.id']));
      assert.ok(instances.has('merchant-api'));
      assert.equal([...instances].filter((i) => String(i).startsWith('shop-query-')).length, 1);
      await quiet(traceId);
      assert.deepEqual(findingsOf(collector, traceId), [], 'a healthy trace has no finding');
    });

    it('drop-write: the worker receives the change and writes nothing', async () => {
      const id = newId();
      const { traceId } = await change(id, false, 'drop-write');
      await waitFor('worker receive', () => (only(ended(collector, traceId), 'sync-worker', 'receive').length === 1 ? true : undefined));
      const spans = ended(collector, traceId);
      assert.deepEqual(only(spans, 'sync-worker', 'write'), []);
      assert.deepEqual(only(spans, 'sync-worker', 'skip'), []);
      assert.deepEqual(spans.filter((s) => s.service === 'shop-query'), []);
      assert.equal(await demo.backends.userShops.get(id), undefined);
      assert.equal((await demo.getShop(id)).status, 404);
      await quiet(traceId);
      assert.deepEqual(describeFindings(findingsOf(collector, traceId)), [`missing-write sync-worker shop:${id}@1`]);
    });

    it('stop-consumer: the message is enqueued and never consumed until a consumer runs again', async () => {
      const id = newId();
      for (const w of demo.workers) await w.setConsuming(false);
      let traceId: string;
      try {
        assert.equal(demo.workers.some((w) => w.consuming), false);
        ({ traceId } = await change(id, false));
        await new Promise((r) => setTimeout(r, 300));
        const spans = ended(collector, traceId);
        one(spans, 'merchant-api', 'enqueue');
        assert.deepEqual(spans.filter((s) => s.service !== 'merchant-api'), []);
        assert.equal(await demo.backends.userShops.get(id), undefined);
        assert.deepEqual(describeFindings(findingsOf(collector, traceId)), [`not-consumed merchant-api shop:${id}@1 mq:shop-changed`]);
      } finally {
        for (const w of demo.workers) await w.setConsuming(true);
      }
      // The message waited in the queue: once consumers run again it goes through.
      await waitFor('the waiting change at shop-query', async () => ((await demo.getShop(id)).status === 200 ? true : undefined));
      one(ended(collector, traceId), 'sync-worker', 'consume');
    });

    it('deliver-twice: the change is consumed and written twice with the same version', async () => {
      const id = newId();
      const { traceId, version } = await change(id, false, 'deliver-twice');
      const consumes = await waitFor('two consumes', () => {
        const c = only(ended(collector, traceId), 'sync-worker', 'consume');
        return c.length === 2 ? c : undefined;
      });
      assert.deepEqual(consumes.map((c) => c.attributes['messaging.message.redelivered']).sort(), [false, true]);
      const spans = await waitFor('second notification handled', () => {
        const s = ended(collector, traceId);
        return only(s, 'shop-query', 'receive').length === 2 ? s : undefined;
      });
      const writes = only(spans, 'sync-worker', 'write', 'mysql:user_shop');
      assert.equal(writes.length, 2);
      // Each delivery's spans take positions of their own: the redelivery sits at P.0.2 (docs/model.md).
      const positions = spans.filter((s) => s.service === 'sync-worker').map((s) => s.rpcid);
      assert.equal(new Set(positions).size, positions.length, `sync-worker positions: ${positions.join(' ')}`);
      for (const w of writes) assert.equal(w.attributes[ATTR.entityVersion], version);
      // shop-query keeps its copy once and says why it ignored the repeat.
      assert.equal(only(spans, 'shop-query', 'write').length, 1);
      assert.equal(one(spans, 'shop-query', 'skip').attributes[ATTR.skipReason], 'stale version');
      await quiet(traceId);
      const dup = describeFindings(findingsOf(collector, traceId));
      assert.ok(dup.includes(`duplicate-write sync-worker shop:${id}@${version} mysql:user_shop`), dup.join(' | '));
      assert.deepEqual(dup.filter((f) => !f.startsWith('duplicate-write sync-worker ')), []);
    });

    it('crash-mid-process: the worker hop shows as started and never ended', async () => {
      const id = newId();
      const { traceId } = await change(id, false, 'crash-mid-process');
      const open = await waitFor('three start records', () => {
        const u = unfinished(collector, traceId);
        return u.length >= 3 ? u : undefined;
      });
      assert.deepEqual(shapes(open), ['sync-worker consume consumer', 'sync-worker process internal', 'sync-worker receive internal']);
      for (const s of open) assert.equal(s.durationUs, undefined);
      assert.deepEqual(ended(collector, traceId).filter((s) => s.service !== 'merchant-api'), []);
      assert.equal(await demo.backends.userShops.get(id), undefined);
      // The deepest hop that never ended is the one reported.
      const crash = findingsOf(collector, traceId);
      assert.deepEqual(describeFindings(crash), [`unfinished-span sync-worker shop:${id}@1`]);
      assert.equal(crash[0]!.spanId, open.find((s) => s.name === 'process shop')!.spanId);
    });

    it('slow-downstream: shop-query holds the notification and the chain takes longer', async () => {
      const id = newId();
      const { traceId } = await change(id, false, 'slow-downstream');
      await waitFor('shop-query write', () => (only(ended(collector, traceId), 'shop-query', 'write').length === 1 ? true : undefined));
      await quiet(traceId);
      const spans = ended(collector, traceId);
      assert.deepEqual(shapes(spans), HEALTHY);
      const queryReceive = one(spans, 'shop-query', 'receive');
      // Timers may fire up to a millisecond early against the µs clock.
      assert.ok(queryReceive.durationUs! >= (SLOW_MS - 2) * 1000, `receive took ${queryReceive.durationUs} µs`);
      const first = one(spans, 'merchant-api', 'receive').startUs;
      const last = one(spans, 'shop-query', 'write');
      assert.ok(last.startUs + last.durationUs! - first >= (SLOW_MS - 2) * 1000);
      // Reported at the last write of the chain: the notification that waited for shop-query.
      assert.deepEqual(describeFindings(findingsOf(collector, traceId)), [`slow-chain sync-worker shop:${id}@1 http:shop-query`]);
    });

    it('lose-notification: the notification write ends well but no shop-query receive follows', async () => {
      const id = newId();
      const { traceId } = await change(id, false, 'lose-notification');
      const spans = await waitFor('the notification write', () => {
        const s = ended(collector, traceId);
        return only(s, 'sync-worker', 'write', 'http:shop-query').length === 1 ? s : undefined;
      });
      const notify = one(spans, 'sync-worker', 'write', 'http:shop-query');
      assert.equal(notify.status.code === 'error', false);
      assert.deepEqual(spans.filter((s) => s.parentSpanId === notify.spanId), []);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(ended(collector, traceId).filter((s) => s.service === 'shop-query'), []);
      assert.deepEqual(await demo.backends.userShops.get(id), { id, open: false, version: 1 });
      assert.equal((await demo.getShop(id)).status, 404);
      await quiet(traceId);
      assert.deepEqual(describeFindings(findingsOf(collector, traceId)), [`missing-downstream-receive sync-worker shop:${id}@1 http:shop-query`]);
    });

    it('corrupt-cache: the chain looks complete while Redis holds the wrong value', async () => {
      const id = newId();
      const { traceId } = await change(id, false, 'corrupt-cache');
      const spans = await waitFor('the complete chain', () => (ended(collector, traceId).length >= HEALTHY.length ? ended(collector, traceId) : undefined));
      assert.deepEqual(shapes(spans), HEALTHY);
      assertConnected(spans, id, 1);
      assert.deepEqual(await demo.backends.userShops.get(id), { id, open: false, version: 1 });
      // Only a content check finds this one: tracing sees a write, not what was written.
      assert.deepEqual(await demo.backends.cache.get(id), { id, open: true, version: 1 });
      await quiet(traceId);
      assert.deepEqual(findingsOf(collector, traceId), []);
    });

    it('rejects bad requests with a JSON error and records the skip', async () => {
      const id = newId();
      const bad = await fetch(`${demo.merchantUrl}/shops/${id}`, { method: 'PUT', body: '{"open":"no"}' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
      const skip = await waitFor('skip span', () => collector.spans.find((s) => s.attributes[ATTR.entityKey] === id && s.attributes[ATTR.stage] === 'skip'));
      assert.equal(skip.attributes[ATTR.skipReason], 'invalid body');
      assert.equal(await demo.backends.shops.get(id), undefined);
      const notJson = await fetch(`${demo.merchantUrl}/shops/${id}`, { method: 'PUT', body: 'not json' });
      assert.equal(notJson.status, 400);
      await notJson.arrayBuffer();
      for (const [method, url] of [
        ['GET', `${demo.merchantUrl}/shops/${id}`],
        ['PUT', `${demo.merchantUrl}/shops/../etc`],
        ['DELETE', `${demo.queryUrlFor(id)}/shops/${id}`],
      ] as const) {
        const r = await fetch(url, { method });
        assert.equal(r.status, 404, `${method} ${url}`);
        assert.equal(typeof ((await r.json()) as { error: { message: string } }).error.message, 'string');
      }
      const badNotify = await fetch(`${demo.queryUrlFor(id)}/shops/${id}/changed`, { method: 'POST', body: JSON.stringify({ id: 'other', open: true, version: 1 }) });
      assert.equal(badNotify.status, 400);
      await badNotify.arrayBuffer();
      assert.equal((await demo.getShop(id)).status, 404);
    });
  });
}
