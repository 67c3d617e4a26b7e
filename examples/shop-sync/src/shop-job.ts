import { defineJob, type SyncJobDefinition } from '@linktrace/sync';
import type { ShopCache, ShopRow, ShopStore, UserShopStore } from './backends.js';
import { FAULT_HEADER, parseFault } from './faults.js';
import { httpRequest } from './http-util.js';

/** The job's identity, shared by the producer (merchant-api's dispatcher) and the workers. */
export const SHOP_JOB = { name: 'shop-sync', entityType: 'shop' } as const;

export interface ShopJobDeps {
  shops: ShopStore;
  userShops: UserShopStore;
  cache: ShopCache;
  /** `host:port` of the shop-query instance that holds shop `id`. */
  queryFor(id: string): string;
  /** Injects the active span's context into the notification headers. */
  inject(headers: Record<string, string>): void;
}

/**
 * The shop sync job: fetch a shop from merchant-api's PostgreSQL `shop`, write it to MariaDB
 * `user_shop`, to Redis `shop:<id>`, then notify the shop-query instance that holds it. The stores
 * tell their version, so a repeat skips them; shop-query keeps its own version check. The header
 * faults that misbehave inside a write (`corrupt-cache`, `lose-notification`) are read from the
 * trigger's meta here; the others are the toolkit's injected faults (see sync-worker.ts).
 */
export function shopJob(deps: ShopJobDeps): SyncJobDefinition<ShopRow> {
  return defineJob<ShopRow>({
    ...SHOP_JOB,
    fetch: async (key) => {
      const row = await deps.shops.get(key);
      return row === undefined ? undefined : { version: row.version, data: row };
    },
    validate: (row) => {
      const r = row as Partial<ShopRow> | undefined;
      return (typeof r?.id === 'string' && typeof r.open === 'boolean') || 'a shop row has an id and a boolean open';
    },
    targets: [
      {
        name: 'mysql:user_shop',
        version: async (key) => (await deps.userShops.get(key))?.version,
        write: (_key, record) => deps.userShops.put(record.data),
      },
      {
        name: 'redis:shop_cache',
        version: async (key) => (await deps.cache.get(key))?.version,
        write: (_key, record, ctx) => {
          const row = record.data;
          return deps.cache.put(faultOf(ctx.trigger.meta) === 'corrupt-cache' ? { ...row, open: !row.open } : row);
        },
      },
      {
        name: 'http:shop-query',
        write: async (key, record, ctx) => {
          const fault = faultOf(ctx.trigger.meta);
          if (fault === 'lose-notification') return; // sent into the void: no request leaves
          const headers: Record<string, string> = {};
          deps.inject(headers);
          if (fault !== undefined) headers[FAULT_HEADER] = fault;
          const reply = await httpRequest('POST', `http://${deps.queryFor(key)}/shops/${key}/changed`, JSON.stringify(record.data), headers);
          if (reply.status >= 300) throw new Error(`shop-query answered ${reply.status}`);
        },
      },
    ],
    // Every change is an event with its version: no recent-sync window. A failed sync is tried once
    // more, then given up (the consume span fails), so an outage never becomes a hot redelivery loop.
    retry: { maxAttempts: 2, baseDelayMs: 100 },
    fetchTimeoutMs: 5000,
    writeTimeoutMs: 5000,
  });
}

export function faultOf(meta: Record<string, string> | undefined): ReturnType<typeof parseFault> {
  return parseFault(meta?.[FAULT_HEADER]);
}
