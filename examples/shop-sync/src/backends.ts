import type { EntityLocks, SyncStateStore, WorkQueue } from '@linktrace/sync';

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

export interface Backends {
  readonly kind: 'real' | 'memory';
  readonly shops: ShopStore;
  readonly userShops: UserShopStore;
  readonly cache: ShopCache;
  /** The `shop-changed` work queue (RabbitMQ, or the toolkit's in-process queue); its span target is `mq:shop-changed`. */
  readonly queue: WorkQueue;
  /** Per-shop locks of the sync job (Redis with fencing tokens, or in memory). */
  readonly locks: EntityLocks;
  /** The sync job's shared state (Redis, or in memory). */
  readonly state: SyncStateStore;
  /** Drops what this run created (tables, keys, queue) and closes the connections. */
  close(): Promise<void>;
}
