import type { TierPolicy } from '../tiers/tier-policy.js';
import type { SyncTrigger } from './trigger.js';
import type { Version } from './versions.js';

/** What the source returned for one entity: its version and the data to write. */
export interface SourceRecord<T> {
  version: Version;
  data: T;
}

export interface FetchContext {
  readonly key: string;
  readonly trigger: SyncTrigger;
  /** Aborted when the fetch times out or the run's lock is lost: pass it to your client if it takes one. */
  readonly signal: AbortSignal;
}

export interface WriteContext extends FetchContext {
  /**
   * The lock's fencing token: grows with every acquisition of any entity's lock. A target that
   * stores it and refuses a write with a lower one is safe even from a holder that lost its lock
   * without knowing (a long GC pause).
   */
  readonly fence: number;
  /** The version the target held before, when the target can tell (`version`), else undefined. */
  readonly previous: Version | undefined;
}

/**
 * `written`: the target applied the record. `exists`: the target's own guard (unique key, version
 * compare, fencing) found this version or a newer one already there and changed nothing; the run
 * records a `skip` (reason `already written`) for it instead of a write.
 */
export type WriteResult = 'written' | 'exists';

export interface SyncTarget<T> {
  /** `scheme:name` (DESIGN §3): `postgres:user_shop`, `redis:shop_cache`, `http:shop-query`. */
  name: string;
  /** Writes the record; resolve to `exists` when the target's guard refused a repeat (void counts as `written`). */
  write(key: string, record: SourceRecord<T>, ctx: WriteContext): Promise<WriteResult | void> | WriteResult | void;
  /** The version the target holds now (undefined: none). When given, a target already at the source's version is skipped. */
  version?(key: string): Promise<Version | undefined> | Version | undefined;
}

export interface RetryPolicy {
  /** Deliveries of one trigger, the first included. Default 5. */
  maxAttempts?: number;
  /** Delay before attempt 2; doubled for each further attempt. Default 1000. */
  baseDelayMs?: number;
  /** Cap of the delay. Default 60 000. */
  maxDelayMs?: number;
}

/** A sync job: how to fetch one entity from the source, how to write it to each target, how to order versions. */
export interface SyncJobDefinition<T> {
  /** Names the job in spans (`linktrace.sync.job`), locks and state; unique per deployment. */
  name: string;
  /** The entity type recorded on every stage span (`linktrace.entity.type`). */
  entityType: string;
  /** Reads the entity at the source; undefined when the source has nothing for it (an empty sync). */
  fetch(key: string, ctx: FetchContext): Promise<SourceRecord<T> | undefined> | SourceRecord<T> | undefined;
  targets: readonly SyncTarget<T>[];
  /** Order of versions; negative when `a` is older. Default `compareVersions`. */
  compareVersions?(a: Version, b: Version): number;
  /** Checks the fetched data: true when usable, else false or the reason it is not (garbage from the source). */
  validate?(data: unknown): boolean | string;
  /** A fetch that has not settled by then fails the run (retried). Default 10 000 ms. */
  fetchTimeoutMs?: number;
  /** A write that has not settled by then fails (retried). Default 10 000 ms. */
  writeTimeoutMs?: number;
  /**
   * A trigger with no newer version than the last sync, arriving within this long after that
   * sync finished, is skipped without calling the source (`recently synced`). Default 0: off.
   */
  recentWindowMs?: number;
  /** Per-entity lock lease; renewed while the run lasts. Default 30 000 ms. */
  lockTtlMs?: number;
  retry?: RetryPolicy;
  /** Tiers and empty-sync backoff that set each entity's next scheduled sync. */
  tiers?: TierPolicy;
}
