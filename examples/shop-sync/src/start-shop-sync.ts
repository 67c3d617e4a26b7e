import { BatchSpanProcessor, createReconciler, createTracing, otlpHttpExporter, type SpanProcessor, type Tracing } from '@linktrace/sdk';
import { registerShopReaders } from './reconcile-shops.js';
import type { Backends } from './backends.js';
import type { Fault } from './faults.js';
import { FAULT_HEADER } from './faults.js';
import { httpRequest, type HttpReply } from './http-util.js';
import { startMerchantApi, type MerchantApi } from './merchant-api.js';
import { memoryBackends } from './memory-backends.js';
import { realBackends, type RealBackendOptions } from './real-backends.js';
import { startShopQuery, type ShopQuery } from './shop-query.js';
import { startSyncWorker, type RemedySettings, type SyncWorker } from './sync-worker.js';

export interface ShopSyncOptions {
  /** `real`: PostgreSQL, MariaDB, Redis and RabbitMQ; `memory`: in-process stand-ins. */
  backends: 'real' | 'memory';
  /** OTLP/HTTP traces URL to export to (e.g. `http://127.0.0.1:4318/v1/traces`); none by default. */
  endpoint?: string;
  /** How long spans may wait in each service's export queue before they are sent, ms. Default 1000. */
  exportDelayMs?: number;
  /** Extra span processors given to every service's Tracing (e.g. one CollectingSpanProcessor). */
  processors?: readonly SpanProcessor[];
  /** Connection settings of the real services. */
  real?: RealBackendOptions;
  /** Delay of the `slow-downstream` fault, ms. Default 1500. */
  slowMs?: number;
  /**
   * When set, each sync-worker compares what it wrote to MariaDB and Redis with the source (PostgreSQL)
   * this long after each write (delayed reconciliation): a corrupted cached value becomes a
   * `data-mismatch` finding. Off by default.
   */
  reconcileDelayMs?: number;
  /** When set, merchant-api and the sync-workers run the remedies the server asks of them (docs/remedies.md). */
  remedies?: RemedySettings;
}

export interface ShopSync {
  readonly backends: Backends;
  readonly merchantUrl: string;
  readonly queryUrls: readonly string[];
  readonly workers: readonly SyncWorker[];
  readonly queries: readonly ShopQuery[];
  /** One Tracing per service instance, keyed `merchant-api`, `sync-worker-1`, … */
  readonly tracings: ReadonlyMap<string, Tracing>;
  /** The shop-query URL that holds shop `id` (shops are sharded by id over the instances). */
  queryUrlFor(id: string): string;
  /** PUT /shops/:id on merchant-api, with an optional fault for this change. */
  changeShop(id: string, open: boolean, fault?: Fault): Promise<HttpReply>;
  /** GET /shops/:id on the shop-query instance that holds it. */
  getShop(id: string): Promise<HttpReply>;
  /** Flushes every Tracing's export pipeline. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const WORKERS = 2;
const QUERIES = 2;

/**
 * Starts the whole demo in this process: merchant-api, two sync-workers and two shop-query
 * instances, each with its own Tracing (as separate processes would have, start records on).
 */
export async function startShopSync(options: ShopSyncOptions): Promise<ShopSync> {
  const backends = options.backends === 'real' ? await realBackends(options.real) : memoryBackends();
  const tracings = new Map<string, Tracing>();
  const tracingFor = (service: string, instanceId: string): Tracing => {
    const resource = { 'service.instance.id': instanceId };
    const processors = [...(options.processors ?? [])];
    if (options.endpoint !== undefined) {
      const exporter = otlpHttpExporter({ url: options.endpoint });
      processors.push(new BatchSpanProcessor(exporter, { resource: { service, attributes: resource }, scheduleDelayMs: options.exportDelayMs }));
    }
    const reconciler =
      service === 'sync-worker' && options.reconcileDelayMs !== undefined ? createReconciler({ delayMs: options.reconcileDelayMs }) : undefined;
    if (reconciler !== undefined) processors.push(reconciler);
    const tracing = createTracing({ service, resource, processors, startRecords: true });
    if (reconciler !== undefined) {
      reconciler.attach(tracing);
      registerShopReaders(reconciler, backends);
    }
    tracings.set(instanceId, tracing);
    return tracing;
  };
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
    for (const tracing of tracings.values()) await tracing.shutdown().catch(() => undefined);
    await backends.close();
  };
  try {
    const queries: ShopQuery[] = [];
    for (let i = 1; i <= QUERIES; i++) {
      const query = await startShopQuery(tracingFor('shop-query', `shop-query-${i}`), options.slowMs);
      closers.push(() => query.close());
      queries.push(query);
    }
    const queryFor = (id: string): string => queries[shardOf(id, queries.length)]!.address;
    const workers: SyncWorker[] = [];
    for (let i = 1; i <= WORKERS; i++) {
      const worker = await startSyncWorker(tracingFor('sync-worker', `sync-worker-${i}`), { ...backends, queryFor, remedies: options.remedies });
      closers.push(() => worker.close());
      workers.push(worker);
    }
    const merchant: MerchantApi = await startMerchantApi(tracingFor('merchant-api', 'merchant-api'), backends.shops, backends.queue, options.remedies);
    closers.push(() => merchant.close());
    const merchantUrl = `http://${merchant.address}`;
    return {
      backends,
      merchantUrl,
      queryUrls: queries.map((q) => `http://${q.address}`),
      workers,
      queries,
      tracings,
      queryUrlFor: (id) => `http://${queryFor(id)}`,
      changeShop: (id, open, fault) =>
        httpRequest('PUT', `${merchantUrl}/shops/${encodeURIComponent(id)}`, JSON.stringify({ open }), fault === undefined ? {} : { [FAULT_HEADER]: fault }),
      getShop: (id) => httpRequest('GET', `http://${queryFor(id)}/shops/${encodeURIComponent(id)}`),
      flush: async () => {
        for (const tracing of tracings.values()) await tracing.forceFlush();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A stable shard of `id` (FNV-1a), so one shop always lives on the same shop-query instance. */
export function shardOf(id: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % count;
}
