import { RemedyAgent, stagesFor, type Tracing } from '@linktrace/sdk';
import { createSyncJob, registerSyncRemedies, startWorker, type InjectedFault } from '@linktrace/sync';
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
  /** When set, the worker runs the remedies the Linktrace server asks of it (docs/remedies.md). */
  remedies?: RemedySettings;
}

/** Where a demo service asks for remedies. */
export interface RemedySettings {
  /** The Linktrace server, e.g. http://127.0.0.1:4318. */
  endpoint: string;
  secret: string;
  token?: string;
  pollMs?: number;
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
  // Remedies: a missing write is replayed by re-syncing the shop (the toolkit's replay for free). A
  // duplicate write is undone by checking the target: every target here is an upsert keyed by the
  // shop's version, so a second write of the same version changed nothing; the undo confirms that
  // MariaDB holds the source's row and fails loudly if it does not (then a re-sync is the repair).
  let agent: RemedyAgent | undefined;
  if (deps.remedies !== undefined) {
    agent = registerSyncRemedies(new RemedyAgent({ tracing, ...deps.remedies, warn: () => {} }), [job]);
    agent.register({
      stage: 'write',
      replay: async (r) => {
        const outcome = await job.resync(r.entity?.key ?? '');
        if (outcome.status === 'failed' || outcome.status === 'dropped') throw new Error(outcome.reason ?? outcome.status);
      },
      undo: async (r) => {
        const key = r.entity?.key ?? '';
        const [source, target] = await Promise.all([deps.shops.get(key), deps.userShops.get(key)]);
        if (source === undefined || target === undefined || target.version !== source.version || target.open !== source.open) {
          throw new Error(`user_shop ${key} does not match the source (target v${String(target?.version)}, source v${String(source?.version)}): re-sync it instead`);
        }
      },
    });
    agent.start();
  }
  return {
    setConsuming: (on) => worker.setConsuming(on),
    get consuming() {
      return worker.consuming;
    },
    get handled() {
      return worker.counters.handled;
    },
    close: async () => {
      await agent?.stop();
      await worker.close();
    },
  };
}
