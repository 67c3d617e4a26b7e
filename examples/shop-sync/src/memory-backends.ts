import { MemoryLocks, MemoryQueue, MemorySyncState } from '@linktrace/sync';
import type { Backends, ShopCache, ShopRow, ShopStore, UserShopStore } from './backends.js';

/**
 * In-process stand-ins: Maps for the stores, and the sync toolkit's in-process queue, locks and
 * state, so the demo runs with no services.
 */
export function memoryBackends(): Backends {
  const queue = new MemoryQueue('shop-changed');
  return {
    kind: 'memory',
    shops: new MemoryShopStore(),
    userShops: new MemoryRows(),
    cache: new MemoryRows(),
    queue,
    locks: new MemoryLocks(),
    state: new MemorySyncState(),
    close: () => queue.close(),
  };
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
