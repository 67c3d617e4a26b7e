/** One message handed to a consumer. */
export interface Delivery {
  body: Buffer;
  headers: Record<string, unknown>;
  /** The broker handed this message out before (a requeue, or a consumer that died holding it). */
  redelivered: boolean;
  /** Which attempt of the trigger this is (1 = first); a retry is republished with the next number. */
  attempt: number;
}

/**
 * What a consumer tells the queue once a message is handled. `ack`: done. `retry`: hand it out
 * again as attempt + 1 after `delayMs`. `requeue`: hand it back at once, as a lost ack would.
 */
export type Settle = { how: 'ack' } | { how: 'retry'; delayMs: number } | { how: 'requeue' };

export interface Subscription {
  /** Stops consuming; unsettled messages go back to the queue. */
  cancel(): Promise<void>;
}

/** The header that carries the attempt number of a retried trigger. */
export const ATTEMPT_HEADER = 'x-sync-attempt';

/**
 * A work queue with competing consumers: RabbitMQ, NATS JetStream, or memory. A consumer holds at
 * most `prefetch` unsettled messages, which bounds the work in flight (and the load on the source)
 * however many triggers are queued.
 */
export interface WorkQueue {
  /** The enqueue target recorded on trigger spans: `mq:<queue name>`. */
  readonly target: string;
  publish(body: Buffer, headers: Record<string, string | number>): Promise<void>;
  consume(handler: (delivery: Delivery) => Promise<Settle>, options: { prefetch: number }): Promise<Subscription>;
  /** Closes what the queue opened (not the connection it was given). */
  close(): Promise<void>;
}

/** The attempt number in `headers` (1 when absent or not a positive integer). */
export function attemptOf(headers: Record<string, unknown> | undefined): number {
  const v = headers?.[ATTEMPT_HEADER];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,9}$/.test(v) ? Number(v) : Buffer.isBuffer(v) ? Number(v.toString('utf8')) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}
