/** What the services need from their stores and queue; real clients and in-process stand-ins implement it. */

export interface ShopRow {
  id: string;
  open: boolean;
  version: number;
}

/** merchant-api's source of truth (PostgreSQL `shop`): each change bumps the version. */
export interface ShopStore {
  /** Stores `open` for shop `id` and returns the row with its new version (1 for a new shop). */
  save(id: string, open: boolean): Promise<ShopRow>;
  get(id: string): Promise<ShopRow | undefined>;
}

/** sync-worker's copy (MariaDB `user_shop`). */
export interface UserShopStore {
  put(row: ShopRow): Promise<void>;
  get(id: string): Promise<ShopRow | undefined>;
}

/** sync-worker's cache (Redis `shop:<id>`). */
export interface ShopCache {
  put(row: ShopRow): Promise<void>;
  get(id: string): Promise<ShopRow | undefined>;
}

export interface QueueMessage {
  body: Buffer;
  headers: Record<string, unknown>;
  /** Delivered before and handed back (a requeue). */
  redelivered: boolean;
}

/** What a consumer tells the queue once a message is handled. `hold`: never settle (a dead handler). */
export type Settle = 'ack' | 'requeue' | 'hold';

export interface Subscription {
  cancel(): Promise<void>;
}

/** The `shop-changed` queue (RabbitMQ), competing consumers. */
export interface ShopQueue {
  publish(body: Buffer, headers: Record<string, unknown>): Promise<void>;
  subscribe(handler: (message: QueueMessage) => Promise<Settle>): Promise<Subscription>;
}

export interface Backends {
  readonly kind: 'real' | 'memory';
  readonly shops: ShopStore;
  readonly userShops: UserShopStore;
  readonly cache: ShopCache;
  readonly queue: ShopQueue;
  /** Drops what this run created (tables, keys, queue) and closes the connections. */
  close(): Promise<void>;
}
