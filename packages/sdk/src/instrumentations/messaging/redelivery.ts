import { ATTR, OldestFirst, ROOT_RPCID, rpcidDelivery, type Attributes } from '@linktrace/model';
import type { Context } from '../../context/context.js';
import { RemoteSpan } from '../../trace/non-recording-span.js';

/**
 * What a received message says about its delivery. `count` is the delivery number (1 = first) when
 * the broker gives it (JetStream's delivery count, RabbitMQ's `x-delivery-count`, or a first
 * delivery known as such); `redelivered` is the broker's flag that it was handed out before.
 */
export interface DeliveryFacts {
  count: number | undefined;
  redelivered: boolean;
}

/** Flag-only redeliveries per producer span in this process: the last delivery number given. */
const flaggedByProducer = new Map<string, number>();
const leastRecentProducer = new OldestFirst(flaggedByProducer);
const MAX_FLAGGED = 1_000;

/**
 * The parent of a delivery's consumer span, and the delivery attributes to record on it. A first
 * delivery continues the producer's context as it is (the consumer half shares the producer's
 * position). A later delivery `n` stays a child of the same producer span but takes position
 * `P.0.n` (`rpcidDelivery`), so its calls never meet the first delivery's `P.1`, `P.2`, …; `n`
 * comes from the message itself, so a redelivery landing in another process takes the same slot.
 * When the broker only flags a redelivery (RabbitMQ classic queues carry no count), `n` counts the
 * flagged deliveries of that producer's messages this process has seen, from 2 (docs/model.md).
 */
export function deliveryParent(upstream: Context, facts: DeliveryFacts, attributes: Attributes): Context {
  // A count of 1 on a message flagged as redelivered is not believed: the flag wins, the count is unknown.
  const count = facts.count !== undefined && (facts.count >= 2 || !facts.redelivered) ? facts.count : undefined;
  if (count !== undefined) attributes[ATTR.deliveryCount] = count;
  if (!facts.redelivered && (count === undefined || count < 2)) return upstream;
  attributes[ATTR.redelivered] = true;
  const producer = upstream.span;
  if (producer === undefined || !producer.isRemote || producer.spanId === '') return upstream;
  const delivery = count !== undefined && count >= 2 ? count : flaggedDelivery(producer.traceId + producer.spanId);
  const remote = producer.spanContext();
  // A producer without a carried position (another tracer) is taken as the root, as its first delivery's calls are.
  const position = rpcidDelivery(remote.rpcid ?? ROOT_RPCID, delivery);
  if (position === undefined) return upstream;
  return upstream.withSpan(new RemoteSpan({ ...remote, rpcid: position }));
}

function flaggedDelivery(key: string): number {
  const n = (flaggedByProducer.get(key) ?? 1) + 1;
  // Re-inserted so that the map's first key is the producer seen least recently, the one dropped at the bound.
  flaggedByProducer.delete(key);
  flaggedByProducer.set(key, n);
  leastRecentProducer.trimTo(MAX_FLAGGED);
  return n;
}

/** A non-negative safe integer read from a header value (amqplib gives numbers; other clients may give strings). */
export function countFrom(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
