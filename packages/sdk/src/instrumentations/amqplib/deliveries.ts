import { OldestFirst } from '@linktrace/model';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { SpanContext } from '../../types.js';

/** One message handed to the application and not yet settled (acked, nacked, rejected). */
export interface Delivery {
  readonly queue: string;
  readonly tag: number;
  /** The dequeue span of the delivery (ended or not): the parent of its `consume` span. */
  readonly span: SpanHandle;
  /** The producer span found in the message headers, linked from a batch settle. */
  readonly producer: SpanContext | undefined;
}

/** Per channel, deliveries waiting for a settle; bounded so a consumer that never acks cannot grow it. */
const MAX_PENDING = 10_000;
const pendingByChannel = new WeakMap<object, { pending: Map<number, Delivery>; oldest: OldestFirst<number, Delivery> }>();
const byMessage = new WeakMap<object, Delivery>();

export function remember(channel: object, message: object, delivery: Delivery, track: boolean): void {
  byMessage.set(message, delivery);
  if (!track) return;
  let tracked = pendingByChannel.get(channel);
  if (tracked === undefined) {
    const pending = new Map<number, Delivery>();
    pendingByChannel.set(channel, (tracked = { pending, oldest: new OldestFirst(pending) }));
  }
  if (tracked.pending.size >= MAX_PENDING) tracked.oldest.take();
  tracked.pending.set(delivery.tag, delivery);
}

export function deliveryOf(message: unknown): Delivery | undefined {
  return typeof message === 'object' && message !== null ? byMessage.get(message) : undefined;
}

/**
 * The deliveries one settle covers: the message itself, or with `allUpTo` every pending one up to its
 * delivery tag (`upTo` undefined: all of them, as `ackAll`/`nackAll`). Call `forget` once the settle went out.
 */
export function settledBy(channel: object, upTo: number | undefined, allUpTo: boolean): Delivery[] {
  const pending = pendingByChannel.get(channel)?.pending;
  if (pending === undefined) return [];
  if (upTo !== undefined && !allUpTo) {
    const one = pending.get(upTo);
    return one === undefined ? [] : [one];
  }
  const out: Delivery[] = [];
  for (const [tag, delivery] of pending) {
    if (upTo === undefined || tag <= upTo) out.push(delivery);
  }
  return out;
}

export function forget(channel: object, deliveries: readonly Delivery[]): void {
  const pending = pendingByChannel.get(channel)?.pending;
  if (pending !== undefined) for (const delivery of deliveries) pending.delete(delivery.tag);
}
