import { stagesFor, type Tracing } from '@linktrace/sdk';
import { createSyncJob, startWorker, type InjectedFault } from '@linktrace/sync';
import type { Backends } from './backends.js';
import type { Fault } from './faults.js';
import { faultOf, shopJob } from './shop-job.js';

export interface SyncWorker {
  /** Runtime switch of the `stop-consumer` fault: false cancels the subscription, true subscribes again. */
  setConsuming(on: boolean): Promise<void>;
  readonly consuming: boolean;
  /** Messages handled to the end (acked). */
  readonly handled: number;
  close(): Promise<void>;
}

export interface SyncWorkerDeps extends Pick<Backends, 'queue' | 'shops' | 'userShops' | 'cache' | 'locks' | 'state'> {
  /** `host:port` of the shop-query instance that holds shop `id`. */
  queryFor(id: string): string;
}

/** The demo's faults that are the toolkit's injected faults. */
const INJECTED: Partial<Record<Fault, InjectedFault>> = {
  'drop-write': 'drop-write',
  'crash-mid-process': 'crash',
  'deliver-twice': 'duplicate-delivery',
};

/**
 * A sync worker of the `shop-sync` job (`@linktrace/sync`): consumes `shop-changed` triggers and runs
 * the job for each — consume → receive → process (fetch the shop from PostgreSQL, compare versions)
 * → write MariaDB `user_shop`, Redis `shop:<id>`, then notify shop-query.
 */
export async function startSyncWorker(tracing: Tracing, deps: SyncWorkerDeps): Promise<SyncWorker> {
  const stages = stagesFor(tracing);
  const job = createSyncJob(shopJob({ ...deps, inject: (headers) => stages.inject(headers) }), { tracing, locks: deps.locks, state: deps.state });
  const worker = await startWorker({
    job,
    queue: deps.queue,
    // A crashed run holds its message for ever (as a dead handler would): room for many in a long demo.
    prefetch: 256,
    faultOf: (trigger) => {
      const fault = faultOf(trigger.meta);
      return fault === undefined ? undefined : INJECTED[fault];
    },
  });
  return {
    setConsuming: (on) => worker.setConsuming(on),
    get consuming() {
      return worker.consuming;
    },
    get handled() {
      return worker.counters.handled;
    },
    close: () => worker.close(),
  };
}
