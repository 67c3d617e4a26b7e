import { EventEmitter } from 'node:events';
import { Context, runWithContext } from '@linktrace/sdk';
import type { Backends, QueueMessage, Settle, ShopCache, ShopQueue, ShopRow, ShopStore, Subscription, UserShopStore } from './backends.js';

/** In-process stand-ins: Maps for the stores and an EventEmitter queue, so the demo runs with no services. */
export function memoryBackends(): Backends {
  return { kind: 'memory', shops: new MemoryShopStore(), userShops: new MemoryRows(), cache: new MemoryRows(), queue: new MemoryQueue(), close: () => Promise.resolve() };
}

class MemoryShopStore implements ShopStore {
  private readonly rows = new Map<string, ShopRow>();

  save(id: string, open: boolean): Promise<ShopRow> {
    const row = { id, open, version: (this.rows.get(id)?.version ?? 0) + 1 };
    this.rows.set(id, row);
    return Promise.resolve({ ...row });
  }

  get(id: string): Promise<ShopRow | undefined> {
    const row = this.rows.get(id);
    return Promise.resolve(row && { ...row });
  }
}

class MemoryRows implements UserShopStore, ShopCache {
  private readonly rows = new Map<string, ShopRow>();

  put(row: ShopRow): Promise<void> {
    this.rows.set(row.id, { ...row });
    return Promise.resolve();
  }

  get(id: string): Promise<ShopRow | undefined> {
    const row = this.rows.get(id);
    return Promise.resolve(row && { ...row });
  }
}

type Handler = (message: QueueMessage) => Promise<Settle>;

/**
 * Competing consumers, round robin, like one RabbitMQ queue. A message published while nobody
 * subscribes waits until someone does; a requeued one goes back to the front, marked redelivered.
 */
class MemoryQueue implements ShopQueue {
  private readonly events = new EventEmitter();
  private readonly waiting: QueueMessage[] = [];
  private readonly handlers: Handler[] = [];
  private next = 0;

  constructor() {
    this.events.on('message', (message: QueueMessage) => this.deliver(message));
  }

  publish(body: Buffer, headers: Record<string, unknown>): Promise<void> {
    // Copies, as a broker would: the consumer never shares the producer's objects.
    this.events.emit('message', { body: Buffer.from(body), headers: { ...headers }, redelivered: false });
    return Promise.resolve();
  }

  subscribe(handler: Handler): Promise<Subscription> {
    this.handlers.push(handler);
    const pending = this.waiting.splice(0);
    for (const message of pending) setImmediate(() => this.deliver(message));
    return Promise.resolve({
      cancel: () => {
        const i = this.handlers.indexOf(handler);
        if (i >= 0) this.handlers.splice(i, 1);
        return Promise.resolve();
      },
    });
  }

  private deliver(message: QueueMessage): void {
    if (this.handlers.length === 0) {
      this.waiting.push(message);
      return;
    }
    const handler = this.handlers[this.next++ % this.handlers.length]!;
    // Async and from the root context: a consumer in another process shares neither the publisher's
    // call stack nor its active span, only what the message headers carry.
    setImmediate(() => {
      runWithContext(Context.ROOT, handler, message).then(
        (settle) => {
          if (settle === 'requeue') this.events.emit('message', { ...message, redelivered: true });
        },
        () => this.events.emit('message', { ...message, redelivered: true }),
      );
    });
  }
}
