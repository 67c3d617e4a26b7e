import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { it } from 'node:test';
import { ATTR } from '@linktrace/model';
import { CollectingSpanProcessor } from '@linktrace/sdk';
import { startShopSync } from '../src/start-shop-sync.js';
import { only, traceIdOf, waitFor } from './trace-helpers.js';

it('a message whose handling fails is retried once, recorded as stage errors, then dropped', async () => {
  const collector = new CollectingSpanProcessor();
  const demo = await startShopSync({ backends: 'memory', processors: [collector] });
  try {
    const id = 'down-1';
    // The shop-query instance that holds this shop is gone: every notification fails.
    await demo.queries[demo.queryUrls.indexOf(demo.queryUrlFor(id))]!.close();
    const reply = await demo.changeShop(id, false);
    assert.equal(reply.status, 200);
    const traceId = await waitFor('trace', () => traceIdOf(collector, id, 1));
    const consumes = await waitFor('two consumes', () => {
      const c = only(collector.spans.filter((s) => s.traceId === traceId), 'sync-worker', 'consume');
      return c.length === 2 ? c : undefined;
    });
    await delay(200);
    const spans = collector.spans.filter((s) => s.traceId === traceId);
    assert.equal(only(spans, 'sync-worker', 'consume').length, 2, 'no third delivery');
    assert.deepEqual(consumes.map((c) => c.attributes['messaging.message.redelivered']).sort(), [false, true]);
    const notifies = only(spans, 'sync-worker', 'write', 'http:shop-query');
    assert.equal(notifies.length, 2);
    for (const n of notifies) {
      assert.equal(n.status.code, 'error');
      assert.equal(n.attributes[ATTR.entityKey], id);
    }
    assert.equal(demo.workers.reduce((sum, w) => sum + w.handled, 0), 0);
    // The stores before the failed hop were written.
    assert.deepEqual(await demo.backends.userShops.get(id), { id, open: false, version: 1 });
  } finally {
    await demo.close();
  }
});
