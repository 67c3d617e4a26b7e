import { amqpHeadersSetter, stagesFor, type Stages, type Tracing } from '@linktrace/sdk';
import { systemClock, type Clock } from '../clock.js';
import type { SyncJobDefinition } from '../job/job-definition.js';
import { SYNC_ATTR, SYNC_SCOPE } from '../job/sync-job.js';
import { encodeTrigger, type SyncTrigger, type TriggerReason } from '../job/trigger.js';
import type { Version } from '../job/versions.js';
import type { SyncStateStore } from '../state/sync-state.js';
import type { WorkQueue } from '../queue/work-queue.js';

export interface DispatcherOptions {
  /** The job the triggers are for (its name, entity type and recent-sync window are read). */
  job: Pick<SyncJobDefinition<unknown>, 'name' | 'entityType' | 'recentWindowMs'>;
  queue: WorkQueue;
  tracing: Tracing;
  /** Needed by `demand` (activity for tiers, the recent-sync window before enqueueing). */
  state?: SyncStateStore;
  clock?: Clock;
}

export interface TriggerOptions {
  version?: Version;
  reason?: TriggerReason;
  meta?: Record<string, string>;
}

export interface DispatcherCounters {
  /** Triggers enqueued. */
  enqueued: number;
  /** Demand triggers not enqueued because the entity was synced within the window. */
  recent: number;
}

/**
 * The producer side: every trigger is an `enqueue` span (target `mq:<queue>`, a child of whatever
 * span is active, e.g. the request that changed the entity) whose context travels in the message
 * headers to the worker's `consume`.
 */
export class Dispatcher {
  readonly counters: DispatcherCounters = { enqueued: 0, recent: 0 };
  private readonly stages: Stages;
  private readonly clock: Clock;

  constructor(private readonly options: DispatcherOptions) {
    this.stages = stagesFor(options.tracing, { scope: SYNC_SCOPE });
    this.clock = options.clock ?? systemClock;
  }

  /** Enqueues a trigger for `key` (reason `event` by default). */
  trigger(key: string, options: TriggerOptions = {}): Promise<void> {
    const { job, queue } = this.options;
    const trigger: SyncTrigger = { key, reason: options.reason ?? 'event', at: this.clock.now() };
    if (options.version !== undefined) trigger.version = options.version;
    if (options.meta !== undefined) trigger.meta = options.meta;
    const entity = { type: job.entityType, key, version: options.version };
    return this.stages.enqueue(
      entity,
      queue.target,
      async () => {
        const headers: Record<string, string | number> = {};
        this.stages.inject(headers, amqpHeadersSetter);
        await queue.publish(encodeTrigger(trigger), headers);
        this.counters.enqueued++;
      },
      { attributes: { [SYNC_ATTR.job]: job.name, [SYNC_ATTR.reason]: trigger.reason } },
    );
  }

  /**
   * An on-demand trigger (a user opened the app): records the activity (tiers are recomputed from
   * it) and enqueues a sync unless the entity was synced within the job's recent-sync window.
   * Resolves to what it did. Without a state store every demand is enqueued.
   */
  async demand(key: string, options: Omit<TriggerOptions, 'reason'> = {}): Promise<'queued' | 'recent'> {
    const { job, state } = this.options;
    const now = this.clock.now();
    if (state !== undefined) {
      const [s] = await Promise.all([state.get(job.name, key), state.update(job.name, key, { activeAt: now })]);
      const window = job.recentWindowMs ?? 0;
      if (window > 0 && s?.syncedAt !== undefined && now - s.syncedAt < window && options.version === undefined) {
        this.counters.recent++;
        return 'recent';
      }
    }
    await this.trigger(key, { ...options, reason: 'demand' });
    return 'queued';
  }
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new Dispatcher(options);
}
