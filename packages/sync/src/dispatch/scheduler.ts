import { systemClock, type Clock } from '../clock.js';
import type { SyncJobDefinition } from '../job/job-definition.js';
import type { SyncStateStore } from '../state/sync-state.js';
import { periodOf, tierFromActivity } from '../tiers/tier-policy.js';
import type { Dispatcher } from './dispatcher.js';

export interface SchedulerOptions {
  job: SyncJobDefinition<unknown> | SyncJobDefinition<never>;
  state: SyncStateStore;
  dispatcher: Dispatcher;
  clock?: Clock;
  /** Entities taken per tick. Default 500. */
  batch?: number;
  /** A due entity taken but never synced comes round again after this. Default 10 minutes. */
  leaseMs?: number;
}

/**
 * Schedule triggers: each entity is due one period after its last sync (its tier's period, or the
 * empty-sync backoff). `tick()` enqueues what is due; run it from a timer (`start(intervalMs)`) or
 * call it with an injected clock in tests. Several schedulers may share a state store: each due
 * entity is taken by one.
 */
export class Scheduler {
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;
  /** Schedule triggers enqueued; ticks that failed (the state store or the queue was down). */
  readonly counters = { scheduled: 0, failedTicks: 0, tierChanges: 0 };

  constructor(private readonly options: SchedulerOptions) {
    if (options.job.tiers === undefined) throw new TypeError(`scheduler for job "${options.job.name}": the job has no tiers`);
    this.clock = options.clock ?? systemClock;
  }

  /** Puts `key` on the schedule (due now unless `dueAt` is given), in `tier` (default the least active). */
  enroll(key: string, tier?: string, dueAt?: number): Promise<void> {
    return this.options.state.update(this.options.job.name, key, { tier, dueAt: dueAt ?? this.clock.now() });
  }

  /** Enqueues a schedule trigger for every entity due now (up to `batch`); resolves to how many. */
  async tick(): Promise<number> {
    const { job, state, dispatcher } = this.options;
    const keys = await state.claimDue(job.name, this.clock.now(), this.options.batch ?? 500, this.options.leaseMs ?? 600_000);
    for (const key of keys) {
      await dispatcher.trigger(key, { reason: 'schedule' });
      this.counters.scheduled++;
    }
    return keys.length;
  }

  /**
   * Moves every entity to the tier its last activity says (TierPolicy `activeWithinMs`), and brings
   * its next sync forward when the new tier's period is shorter. Resolves to how many changed.
   */
  async recomputeTiers(): Promise<number> {
    const { job, state } = this.options;
    const policy = job.tiers!;
    const now = this.clock.now();
    let changed = 0;
    await state.scan(job.name, async (key, s) => {
      const tier = tierFromActivity(policy, s.activeAt, now);
      if (tier.name === s.tier) return;
      const next = { ...s, tier: tier.name };
      const due = (s.syncedAt ?? now) + periodOf(policy, next);
      await state.update(job.name, key, { tier: tier.name, dueAt: s.dueAt === undefined ? due : Math.min(s.dueAt, due) });
      changed++;
    });
    this.counters.tierChanges += changed;
    return changed;
  }

  /** Ticks every `intervalMs` until `stop()`; a failed tick is counted and the next one tries again. */
  start(intervalMs = 1000): void {
    if (this.timer !== undefined) return;
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.tick()
        .catch(() => void this.counters.failedTicks++)
        .finally(() => (running = false));
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
