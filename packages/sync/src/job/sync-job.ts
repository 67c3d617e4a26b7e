import { ATTR } from '@linktrace/model';
import { stagesFor, type IncomingStageOptions, type SpanHandle, type Stages, type Tracing } from '@linktrace/sdk';
import { systemClock, type Clock } from '../clock.js';
import type { EntityLocks, LockLease } from '../locks/entity-lock.js';
import { MemoryLocks } from '../locks/memory-locks.js';
import { MemorySyncState } from '../state/memory-state.js';
import type { EntityState, SyncStateStore } from '../state/sync-state.js';
import { periodOf } from '../tiers/tier-policy.js';
import { defineJob } from './define-job.js';
import type { SourceRecord, SyncJobDefinition, SyncTarget, WriteResult } from './job-definition.js';
import { newSyncCounters, SKIP, type RunOutcome, type SyncCounters } from './run-outcome.js';
import type { SyncTrigger } from './trigger.js';
import { compareVersions, isVersion, type Version } from './versions.js';
import { StepAbort, withTimeout } from './with-timeout.js';

/** The instrumentation scope of the toolkit's stage spans. */
export const SYNC_SCOPE = '@linktrace/sync';

/** Attributes the toolkit adds to its receive spans (besides the DESIGN §3 stage attributes). */
export const SYNC_ATTR = {
  job: 'linktrace.sync.job',
  reason: 'linktrace.sync.reason',
  fence: 'linktrace.sync.fence',
  /** On a skip span: the skipped target (`up to date`, `already written`), or the detail of `invalid source data`. */
  target: 'linktrace.sync.target',
  detail: 'linktrace.sync.detail',
} as const;

/**
 * Faults a run can be told to commit, so tests and demos can show what the chain checks find:
 * `drop-write` ends after process with no write and no skip (`missing-write`); `crash` never ends
 * its process step (`unfinished-span`); `duplicate-delivery` is handled by the worker (a lost ack
 * whose redelivery runs with no guard: `duplicate-write`).
 */
export type InjectedFault = 'drop-write' | 'crash' | 'duplicate-delivery';

export interface SyncJobDeps {
  tracing: Tracing;
  /** Default: locks in this process's memory (one process only). */
  locks?: EntityLocks;
  /** Default: state in this process's memory (one process only). */
  state?: SyncStateStore;
  clock?: Clock;
}

export interface RunOptions {
  /** Options of the receive span: `parent`, `headers` (+ `getter`), `links`, … (default: the active context). */
  receive?: IncomingStageOptions<unknown>;
  fault?: InjectedFault;
  /** Skip the recent-sync window, the synced-version check and the targets' version compare (a lost-ack redelivery of a consumer with no guard). */
  unguarded?: boolean;
}

/** One prepared run: what process found out. */
type Plan =
  | { kind: 'skip'; reason: string; retry: boolean; detail?: string; version?: Version }
  | { kind: 'write'; record: SourceRecord<unknown>; previous: (Version | undefined)[] };

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_TTL_MS = 30_000;

/**
 * A sync job bound to its tracing, locks and state. `run(trigger)` performs one traced run:
 * `receive` → `process` (fetch, validate, compare versions) → one `write` per target that is
 * behind, or `skip` with the reason. Every span carries the entity type, key and version.
 */
export class SyncJob<T = unknown> {
  readonly definition: SyncJobDefinition<T>;
  readonly counters: SyncCounters = newSyncCounters();
  readonly stages: Stages;
  readonly locks: EntityLocks;
  readonly state: SyncStateStore;
  readonly clock: Clock;
  private readonly compare: (a: Version, b: Version) => number;

  constructor(definition: SyncJobDefinition<T>, deps: SyncJobDeps) {
    this.definition = defineJob(definition);
    this.stages = stagesFor(deps.tracing, { scope: SYNC_SCOPE });
    this.locks = deps.locks ?? new MemoryLocks();
    this.state = deps.state ?? new MemorySyncState();
    this.clock = deps.clock ?? systemClock;
    this.compare = definition.compareVersions ?? compareVersions;
  }

  get name(): string {
    return this.definition.name;
  }

  get entityType(): string {
    return this.definition.entityType;
  }

  /**
   * Syncs `key` now, in this process, whatever the recent-sync window says (still locked, and
   * targets already at the source's version are skipped): the entry point for repairs (replaying
   * a missing write). Resolves to the outcome; never rejects.
   */
  resync(key: string, options: RunOptions = {}): Promise<RunOutcome> {
    return this.run({ key, reason: 'resync', at: this.clock.now() }, options);
  }

  // The receive options of each trigger reason, made once: the common run allocates none.
  private readonly receiveOptionsByReason = new Map<string, IncomingStageOptions<unknown>>();

  private receiveOptionsFor(reason: string): IncomingStageOptions<unknown> {
    let options = this.receiveOptionsByReason.get(reason);
    if (options === undefined) {
      options = { attributes: { [SYNC_ATTR.job]: this.definition.name, [SYNC_ATTR.reason]: reason } };
      this.receiveOptionsByReason.set(reason, options);
    }
    return options;
  }

  /** One traced run of `trigger`. Never rejects: failures are recorded on the spans and in the outcome. */
  run(trigger: SyncTrigger, options: RunOptions = {}): Promise<RunOutcome> {
    this.counters.runs++;
    const entity = { type: this.definition.entityType, key: trigger.key, version: trigger.version };
    const receiveOptions = options.receive === undefined ? this.receiveOptionsFor(trigger.reason) : { ...options.receive, attributes: { ...options.receive.attributes, ...this.receiveOptionsFor(trigger.reason).attributes } };
    return this.stages.receive(entity, (span) => this.runInReceive(trigger, span, options), receiveOptions).catch((error: unknown) => {
      // Only a bug of ours gets here (every step catches its own); the receive span recorded it.
      this.counters.failures++;
      return { status: 'failed', reason: messageOf(error), written: [], upToDate: [], retry: true, fetched: false } satisfies RunOutcome;
    });
  }

  private async runInReceive(trigger: SyncTrigger, receive: SpanHandle, options: RunOptions): Promise<RunOutcome> {
    const def = this.definition;
    const key = trigger.key;
    const guarded = options.unguarded !== true;
    let state: EntityState | undefined;
    try {
      state = await this.state.get(def.name, key);
    } catch (error) {
      // Without state the run is still safe (targets guard themselves); it only loses the window.
      this.counters.stateErrors++;
      receive.addEvent('sync state unavailable', { 'exception.message': messageOf(error) });
    }
    if (guarded && trigger.reason !== 'resync' && state?.syncedAt !== undefined) {
      const newer = trigger.version !== undefined && (state.version === undefined || this.compare(trigger.version, state.version) > 0);
      if (!newer && trigger.version !== undefined && state.version !== undefined) return this.skip(trigger, SKIP.alreadySynced, false, trigger.version);
      const window = def.recentWindowMs ?? 0;
      if (!newer && window > 0 && this.clock.now() - state.syncedAt < window) return this.skip(trigger, SKIP.recentlySynced, false, trigger.version);
    }

    let lease: LockLease | undefined;
    try {
      lease = await this.locks.acquire(`${def.name}:${key}`, def.lockTtlMs ?? DEFAULT_LOCK_TTL_MS);
    } catch (error) {
      // The lock service is down: we may not work without it. A failed receive, tried again later.
      const message = `lock service unavailable: ${messageOf(error)}`;
      receive.recordException(error);
      receive.setStatus('error', message);
      this.counters.failures++;
      return { status: 'failed', reason: message, written: [], upToDate: [], retry: true, fetched: false };
    }
    if (lease === undefined) return this.skip(trigger, SKIP.locked, true);
    receive.setAttribute(SYNC_ATTR.fence, lease.fence);
    try {
      return await this.runLocked(trigger, receive, options, state, lease, guarded);
    } finally {
      if (options.fault !== 'crash') await lease.release();
    }
  }

  private async runLocked(trigger: SyncTrigger, receive: SpanHandle, options: RunOptions, state: EntityState | undefined, lease: LockLease, guarded: boolean): Promise<RunOutcome> {
    const def = this.definition;
    const key = trigger.key;
    const entity = { type: def.entityType, key, version: trigger.version };
    let plan: Plan;
    let fetched = false;
    try {
      plan = await this.stages.process(entity, async (span) => {
        if (options.fault === 'crash') await new Promise<never>(() => undefined); // a handler that dies here: never ends
        const step = new StepAbort();
        lease.onLost((reason) => step.abort(new Error(`lock lost: ${reason}`)));
        fetched = true;
        this.counters.fetches++;
        const ctx = { key, trigger, get signal() { return step.signal; } };
        const record = await withTimeout(() => def.fetch(key, ctx), def.fetchTimeoutMs ?? DEFAULT_TIMEOUT_MS, 'source', step);
        return this.plan(trigger, record, state, guarded, (version) => {
          span.setAttribute(ATTR.entityVersion, version);
          receive.setAttribute(ATTR.entityVersion, version);
        });
      });
    } catch (error) {
      this.counters.failures++;
      return { status: 'failed', reason: messageOf(error), written: [], upToDate: [], retry: true, fetched };
    }
    if (plan.kind === 'skip') {
      if (plan.reason === SKIP.empty) await this.saveState(key, state, { syncedAt: this.clock.now(), emptyStreak: (state?.emptyStreak ?? 0) + 1 });
      return this.skip(trigger, plan.reason, plan.retry, plan.version, plan.detail, fetched);
    }
    const record = plan.record;
    const versioned = { type: def.entityType, key, version: record.version };
    if (options.fault === 'drop-write') return { status: 'dropped', version: record.version, written: [], upToDate: [], retry: false, fetched };
    const outcome: RunOutcome = { status: 'written', version: record.version, written: [], upToDate: [], retry: false, fetched };
    // Asked once, just before writing: a lease lost during the fetch is found here, not after a write.
    if (!(await lease.confirm())) return this.skip(trigger, SKIP.lockLost, true, record.version, undefined, fetched);
    for (let i = 0; i < def.targets.length; i++) {
      const target = def.targets[i]!;
      const previous = plan.previous[i];
      if (guarded && previous !== undefined && this.compare(previous, record.version) >= 0) {
        this.targetSkip(versioned, target.name, SKIP.upToDate);
        outcome.upToDate.push(target.name);
        continue;
      }
      if (lease.lost) {
        // Abandoned: what is written stays (each write is whole); the rest is left to the retry.
        this.stages.skip(versioned, SKIP.lockLost, undefined, { attributes: { [SYNC_ATTR.target]: target.name } });
        this.counters.skips[SKIP.lockLost] = (this.counters.skips[SKIP.lockLost] ?? 0) + 1;
        return { ...outcome, status: 'skipped', reason: SKIP.lockLost, retry: true };
      }
      try {
        const result = await this.write(target, key, record, trigger, lease, previous);
        if (result === 'exists') outcome.upToDate.push(target.name);
        else {
          outcome.written.push(target.name);
          outcome.writtenAt = this.clock.now();
        }
      } catch (error) {
        // Later targets wait for the retry, so they are never ahead of an earlier one.
        this.counters.failures++;
        return { ...outcome, status: 'failed', reason: `${target.name}: ${messageOf(error)}`, retry: true };
      }
    }
    if (outcome.written.length === 0) outcome.status = 'skipped';
    outcome.reason = outcome.written.length === 0 ? SKIP.upToDate : undefined;
    const period = def.tiers === undefined ? undefined : periodOf(def.tiers, { ...state, emptyStreak: 0 });
    const now = this.clock.now();
    await this.saveState(key, state, { syncedAt: now, version: record.version, emptyStreak: 0, dueAt: period === undefined ? undefined : now + period });
    return outcome;
  }

  /** Decides, inside process, what the run will do with the fetched record. */
  private async plan(trigger: SyncTrigger, record: unknown, state: EntityState | undefined, guarded: boolean, setVersion: (v: Version) => void): Promise<Plan> {
    const def = this.definition;
    if (record === undefined || record === null) return { kind: 'skip', reason: SKIP.empty, retry: false };
    const { version, data } = record as Partial<SourceRecord<unknown>>;
    if (typeof record !== 'object' || !isVersion(version)) return { kind: 'skip', reason: SKIP.invalid, retry: false, detail: 'the record has no valid version' };
    setVersion(version);
    if (def.validate !== undefined) {
      let verdict: boolean | string;
      try {
        verdict = def.validate(data);
      } catch (error) {
        verdict = `validate threw: ${messageOf(error)}`;
      }
      if (verdict !== true) return { kind: 'skip', reason: SKIP.invalid, retry: false, detail: typeof verdict === 'string' ? verdict.slice(0, 200) : 'validate refused the data', version };
    }
    if (guarded && trigger.version !== undefined && this.compare(version, trigger.version) < 0) {
      // The trigger saw a newer version than the source now gives (a lagging replica): try again later.
      return { kind: 'skip', reason: SKIP.olderThanTrigger, retry: true, version };
    }
    if (guarded && state?.version !== undefined && this.compare(version, state.version) < 0) return { kind: 'skip', reason: SKIP.olderThanSynced, retry: false, version };
    const previous = guarded ? await Promise.all(def.targets.map((t) => this.targetVersion(t, trigger.key))) : def.targets.map(() => undefined);
    return { kind: 'write', record: { version, data }, previous };
  }

  private async targetVersion(target: SyncTarget<T>, key: string): Promise<Version | undefined> {
    if (target.version === undefined) return undefined;
    try {
      const v = await target.version(key);
      return isVersion(v) ? v : undefined;
    } catch {
      // Unknown: the write goes ahead, and the target's own guard decides.
      return undefined;
    }
  }

  private write(target: SyncTarget<T>, key: string, record: SourceRecord<unknown>, trigger: SyncTrigger, lease: LockLease, previous: Version | undefined): Promise<WriteResult> {
    const def = this.definition;
    const entity = { type: def.entityType, key, version: record.version };
    return this.stages.write(entity, target.name, async (span) => {
      const step = new StepAbort();
      lease.onLost((reason) => step.abort(new Error(`lock lost: ${reason}`)));
      const ctx = { key, trigger, fence: lease.fence, previous, get signal() { return step.signal; } };
      const result = await withTimeout(() => target.write(key, record as SourceRecord<T>, ctx), def.writeTimeoutMs ?? DEFAULT_TIMEOUT_MS, `write to ${target.name}`, step);
      if (result === 'exists') {
        // The target's guard refused a repeat: not a write (the duplicate-write rule must not count it).
        span.setAttribute(ATTR.stage, 'skip');
        span.setAttribute(ATTR.skipReason, SKIP.alreadyWritten);
        this.counters.targetSkips++;
        return 'exists';
      }
      this.counters.writes++;
      return 'written';
    });
  }

  private targetSkip(entity: { type: string; key: string; version: Version }, target: string, reason: string): void {
    this.counters.targetSkips++;
    this.stages.skip(entity, reason, undefined, { attributes: { [SYNC_ATTR.target]: target } });
  }

  /** A skip of the whole run; `version` must be the one the receive span carries, so the checker pairs them. */
  private skip(trigger: SyncTrigger, reason: string, retry: boolean, version?: Version, detail?: string, fetched = false): RunOutcome {
    const entity = { type: this.definition.entityType, key: trigger.key, version: version ?? trigger.version };
    this.stages.skip(entity, reason, undefined, detail === undefined ? undefined : { attributes: { [SYNC_ATTR.detail]: detail } });
    this.counters.skips[reason] = (this.counters.skips[reason] ?? 0) + 1;
    return { status: 'skipped', reason, version, written: [], upToDate: [], retry, fetched };
  }

  private async saveState(key: string, _before: EntityState | undefined, patch: EntityState): Promise<void> {
    const def = this.definition;
    if (def.tiers !== undefined && patch.dueAt === undefined && patch.emptyStreak !== undefined) {
      patch.dueAt = this.clock.now() + periodOf(def.tiers, { ..._before, emptyStreak: patch.emptyStreak });
    }
    try {
      await this.state.update(def.name, key, patch);
    } catch {
      this.counters.stateErrors++;
    }
  }
}

/** A job bound to its tracing, locks and state; the definition is checked (JobDefinitionError) first. */
export function createSyncJob<T>(definition: SyncJobDefinition<T>, deps: SyncJobDeps): SyncJob<T> {
  return new SyncJob(definition, deps);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
