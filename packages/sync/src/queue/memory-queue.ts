import { Context, runWithContext } from '@linktrace/sdk';
import { ATTEMPT_HEADER, attemptOf, type Delivery, type Settle, type Subscription, type WorkQueue } from './work-queue.js';

interface Consumer {
  handler: (delivery: Delivery) => Promise<Settle>;
  prefetch: number;
  inFlight: number;
  active: boolean;
}

/**
 * A queue in this process with competing consumers, round robin, each holding at most `prefetch`
 * messages, like a RabbitMQ queue: for tests and the demo. A message published while nobody
 * consumes waits; a requeued one goes back to the front, marked redelivered. Handlers run from
 * the root context, as a consumer in another process would.
 */
export class MemoryQueue implements WorkQueue {
  readonly target: string;
  private readonly waiting: Delivery[] = [];
  private readonly consumers: Consumer[] = [];
  private next = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly name: string) {
    this.target = `mq:${name}`;
  }

  /** Consumers subscribed now. */
  get consumerCount(): number {
    return this.consumers.length;
  }

  /** Messages waiting for a consumer. */
  get depth(): number {
    return this.waiting.length;
  }

  publish(body: Buffer, headers: Record<string, string | number>): Promise<void> {
    // Copies, as a broker would: the consumer never shares the producer's objects.
    this.waiting.push({ body: Buffer.from(body), headers: { ...headers }, redelivered: false, attempt: attemptOf(headers) });
    this.pump();
    return Promise.resolve();
  }

  consume(handler: (delivery: Delivery) => Promise<Settle>, options: { prefetch: number }): Promise<Subscription> {
    const consumer: Consumer = { handler, prefetch: Math.max(1, Math.floor(options.prefetch)), inFlight: 0, active: true };
    this.consumers.push(consumer);
    this.pump();
    return Promise.resolve({
      cancel: () => {
        consumer.active = false;
        const i = this.consumers.indexOf(consumer);
        if (i >= 0) this.consumers.splice(i, 1);
        return Promise.resolve();
      },
    });
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return Promise.resolve();
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const consumer = this.pick();
      if (consumer === undefined) return;
      const delivery = this.waiting.shift()!;
      consumer.inFlight++;
      setImmediate(() => void this.handle(consumer, delivery));
    }
  }

  private pick(): Consumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const c = this.consumers[this.next++ % this.consumers.length]!;
      if (c.inFlight < c.prefetch) return c;
    }
    return undefined;
  }

  private async handle(consumer: Consumer, delivery: Delivery): Promise<void> {
    let settle: Settle;
    try {
      settle = await runWithContext(Context.ROOT, consumer.handler, delivery);
    } catch {
      settle = { how: 'requeue' };
    }
    consumer.inFlight--;
    if (settle.how === 'requeue' || !consumer.active) {
      this.waiting.unshift({ ...delivery, redelivered: true });
    } else if (settle.how === 'retry') {
      const copy: Delivery = { ...delivery, headers: { ...delivery.headers, [ATTEMPT_HEADER]: delivery.attempt + 1 }, redelivered: false, attempt: delivery.attempt + 1 };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiting.push(copy);
        this.pump();
      }, settle.delayMs);
      timer.unref();
      this.timers.add(timer);
    }
    this.pump();
  }
}
