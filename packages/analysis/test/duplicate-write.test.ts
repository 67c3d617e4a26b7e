import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR, type Span } from '@linktrace/model';
import { checkTrace } from '../src/check-trace.js';
import { ID, LATER, T0, byId, shopSync } from './shop-sync.js';

/** The sync worker's delivery and its INSERT, delivered again (a lost ack): the second delivery at `0.2.0.2`. */
function redelivered(spans: Span[], count: number | undefined): Span[] {
  const first = byId(spans, ID.workerReceive);
  if (count !== undefined) first.attributes = { ...first.attributes, [ATTR.deliveryCount]: 1 };
  const again: Span = { ...first, spanId: 'b000000000000011', rpcid: '0.2.0.2', startUs: T0 + 400_000, attributes: { ...first.attributes, [ATTR.redelivered]: true } };
  if (count !== undefined) again.attributes[ATTR.deliveryCount] = count;
  const write: Span = { ...byId(spans, ID.workerMysql), spanId: 'b000000000000012', parentSpanId: again.spanId, rpcid: '0.2.0.2.1', startUs: T0 + 410_000 };
  return [again, write];
}

describe('duplicate-write across deliveries', () => {
  it('a write repeated by a redelivery: one finding, on the repeated write, naming both deliveries', () => {
    const spans = shopSync();
    const extra = redelivered(spans, 2);
    // Arrival order must not matter: the redelivery's spans come first.
    const findings = checkTrace([...extra, ...spans], {}, LATER);
    assert.deepEqual(findings.map((f) => f.rule), ['duplicate-write']);
    const f = findings[0]!;
    assert.equal(f.spanId, 'b000000000000012');
    assert.equal(f.service, 'sync-worker');
    assert.equal(
      f.message,
      `shop 42 v7 written twice to mysql:user_shop, by 2 deliveries of one message: span ${ID.workerReceive} at 0.2 (delivery 1) and span b000000000000011 at 0.2.0.2 (delivery 2)`,
    );
    assert.deepEqual(f.deliveries, [
      { spanId: ID.workerReceive, rpcid: '0.2', count: 1, writeSpanId: ID.workerMysql },
      { spanId: 'b000000000000011', rpcid: '0.2.0.2', count: 2, writeSpanId: 'b000000000000012' },
    ]);
  });

  it('without a delivery count (another tracer), the deliveries are still named by span and position', () => {
    const spans = shopSync();
    const [f] = checkTrace([...spans, ...redelivered(spans, undefined)], {}, LATER);
    assert.equal(f!.message, `shop 42 v7 written twice to mysql:user_shop, by 2 deliveries of one message: span ${ID.workerReceive} at 0.2 and span b000000000000011 at 0.2.0.2`);
    assert.deepEqual(f!.deliveries?.map((d) => d.count), [undefined, undefined]);
  });

  it('a handler that writes twice in one delivery names no deliveries', () => {
    const spans = shopSync();
    const twice: Span = { ...byId(spans, ID.workerMysql), spanId: 'b000000000000005', rpcid: '0.2.4', startUs: T0 + 250_000 };
    const [f] = checkTrace([...spans, twice], {}, LATER);
    assert.equal(f!.message, 'shop 42 v7 written twice to mysql:user_shop');
    assert.equal(f!.deliveries, undefined);
  });
});
