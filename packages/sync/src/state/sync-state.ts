import type { Version } from '../job/versions.js';

/** What the toolkit remembers about one entity of one job, shared by every worker. */
export interface EntityState {
  /** When the last complete sync finished (every target written or up to date), ms. */
  syncedAt?: number;
  /** The source version that sync wrote. */
  version?: Version;
  /** Syncs in a row that found nothing at the source (drives the empty backoff). */
  emptyStreak?: number;
  /** The entity's tier (see TierPolicy); absent: the least active tier. */
  tier?: string;
  /** Last activity (a demand trigger), ms: what tiers are recomputed from. */
  activeAt?: number;
  /** Next scheduled sync, ms; absent: never scheduled. */
  dueAt?: number;
}

/**
 * Shared sync state: memory for one process (tests, the demo), Redis for several. Every method may
 * reject (a store that is down); callers turn that into a traced failure and a retry.
 */
export interface SyncStateStore {
  get(job: string, key: string): Promise<EntityState | undefined>;
  /** Sets the given fields (undefined fields are left as they are). A `dueAt` also (re)schedules the entity. */
  update(job: string, key: string, patch: EntityState): Promise<void>;
  /**
   * Takes up to `limit` entities due at `now` (dueAt ≤ now) and moves each one's dueAt to
   * `now + leaseMs`, so that two schedulers never take the same one and a trigger that is lost
   * comes round again after the lease. Oldest due first.
   */
  claimDue(job: string, now: number, limit: number, leaseMs: number): Promise<string[]>;
  /** Calls `fn` for every entity of the job (in batches); for recomputing tiers. */
  scan(job: string, fn: (key: string, state: EntityState) => Promise<void> | void): Promise<void>;
  close?(): Promise<void>;
}
