import { amqpHeadersGetter, stagesFor, type Tracing } from '@linktrace/sdk';
import type { QueueMessage, Settle, ShopCache, ShopQueue, Subscription, UserShopStore } from './backends.js';
import { FAULT_HEADER, parseFault } from './faults.js';
import { httpRequest } from './http-util.js';
import { startAttributes } from './start-attributes.js';
import type { ShopChanged } from './merchant-api.js';

export interface SyncWorker {
  /** Runtime switch of the `stop-consumer` fault: false cancels the subscription, true subscribes again. */
  setConsuming(on: boolean): Promise<void>;
  readonly consuming: boolean;
  /** Messages handled to the end (acked). */
  readonly handled: number;
  close(): Promise<void>;
}

export interface SyncWorkerDeps {
  queue: ShopQueue;
  userShops: UserShopStore;
  cache: ShopCache;
  /** `host:port` of the shop-query instance that holds shop `id`. */
  queryFor(id: string): string;
}

/**
 * Consumes `shop-changed`, writes MariaDB `user_shop` and Redis `shop:<id>`, then notifies the
 * shop-query instance that holds the shop. The `x-fault` message header selects a misbehaviour.
 */
export async function startSyncWorker(tracing: Tracing, deps: SyncWorkerDeps): Promise<SyncWorker> {
  const stages = stagesFor(tracing);
  let subscription: Subscription | undefined;
  let handled = 0;

  const handle = (message: QueueMessage): Promise<Settle> => {
    let change: ShopChanged;
    try {
      change = JSON.parse(message.body.toString('utf8')) as ShopChanged;
    } catch {
      change = { id: '', open: false, version: 0 };
    }
    const entity = { type: 'shop', key: change.id, version: change.version };
    const fault = parseFault(message.headers[FAULT_HEADER]);
    return stages.consume(
      entity,
      () =>
        stages.receive(entity, async (): Promise<Settle> => {
          if (typeof change.id !== 'string' || change.id === '' || typeof change.open !== 'boolean') {
            stages.skip(entity, 'malformed message');
            return 'ack';
          }
          if (fault === 'crash-mid-process') {
            // The handler dies here: its spans began (start records) and will never end.
            return stages.process(entity, () => new Promise<Settle>(() => undefined), { attributes: startAttributes('process', entity) });
          }
          const row = stages.process(entity, () => ({ id: change.id, open: change.open, version: change.version }));
          if (fault !== 'drop-write') {
            await stages.write(entity, 'mysql:user_shop', () => deps.userShops.put(row));
            const cached = fault === 'corrupt-cache' ? { ...row, open: !row.open } : row;
            await stages.write(entity, 'redis:shop_cache', () => deps.cache.put(cached));
            await stages.write(entity, 'http:shop-query', async () => {
              if (fault === 'lose-notification') return; // sent into the void: no request leaves
              const headers: Record<string, string> = {};
              stages.inject(headers);
              if (fault !== undefined) headers[FAULT_HEADER] = fault;
              const reply = await httpRequest('POST', `http://${deps.queryFor(row.id)}/shops/${row.id}/changed`, JSON.stringify(row), headers);
              if (reply.status >= 300) throw new Error(`shop-query answered ${reply.status}`);
            });
          }
          // A lost ack: the broker hands the message out once more, and it is applied twice.
          if (fault === 'deliver-twice' && !message.redelivered) return 'requeue';
          handled++;
          return 'ack';
        }, { attributes: startAttributes('receive', entity) }),
      {
        headers: message.headers,
        getter: amqpHeadersGetter,
        // A redelivery takes a position of its own under the producer: its calls never share positions with the first delivery's.
        delivery: { redelivered: message.redelivered },
        attributes: { ...startAttributes('consume', entity), 'messaging.message.redelivered': message.redelivered },
      },
    );
  };

  // A failed message is retried once (the stage spans record each error); then it is dropped, so that
  // a store that is down does not turn into a hot redelivery loop.
  const handleOnce = (message: QueueMessage): Promise<Settle> => handle(message).catch((): Settle => (message.redelivered ? 'ack' : 'requeue'));

  const worker: SyncWorker = {
    async setConsuming(on: boolean) {
      if (on && subscription === undefined) subscription = await deps.queue.subscribe(handleOnce);
      else if (!on && subscription !== undefined) {
        const s = subscription;
        subscription = undefined;
        await s.cancel();
      }
    },
    get consuming() {
      return subscription !== undefined;
    },
    get handled() {
      return handled;
    },
    async close() {
      await worker.setConsuming(false);
    },
  };
  await worker.setConsuming(true);
  return worker;
}
