import type { Reconciler } from '@linktrace/sdk';
import type { Backends, ShopRow } from './backends.js';

/**
 * How a sync-worker reads a shop where it came from (merchant-api's PostgreSQL table) and where it
 * wrote it (MariaDB `user_shop`, Redis `shop:<id>`). Only the version and a hash of `{ open }` leave
 * the process; the reconciler hashes the payload locally.
 */
export function registerShopReaders(reconciler: Reconciler, backends: Backends): void {
  const state = (row: ShopRow | undefined) => (row === undefined ? undefined : { version: row.version, payload: { open: row.open } });
  reconciler.register('shop', {
    source: async (key) => state(await backends.shops.get(key)),
    target: async (key, target) => {
      if (target === 'redis:shop_cache') return state(await backends.cache.get(key));
      if (target === 'mysql:user_shop') return state(await backends.userShops.get(key));
      return undefined;
    },
  });
}
