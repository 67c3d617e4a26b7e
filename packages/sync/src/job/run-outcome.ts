import type { Version } from './versions.js';

/**
 * How one run ended. `written`: every target written or already up to date (at least one
 * written). `skipped`: deliberately nothing written (see `reason`, the `linktrace.skip.reason` of
 * its skip span). `failed`: a step failed (its span has status error). `dropped`: an injected
 * `drop-write` fault ended the run without writing or skipping (for testing the checks).
 */
export type RunStatus = 'written' | 'skipped' | 'failed' | 'dropped';

export interface RunOutcome {
  status: RunStatus;
  /** The skip reason, or the failure's message. */
  reason?: string;
  /** The source version the run handled, once known. */
  version?: Version;
  /** Targets written by this run, in order. */
  written: string[];
  /** Targets skipped as up to date or already holding the version. */
  upToDate: string[];
  /** True when the trigger should be tried again later (a failure, a busy or lost lock, a lagging source). */
  retry: boolean;
  /** Whether the source was called. */
  fetched: boolean;
  /** When the last write ended (ms), for trigger-to-write latency. */
  writtenAt?: number;
}

/** The fixed skip reasons a run records (`linktrace.skip.reason`). */
export const SKIP = {
  recentlySynced: 'recently synced',
  alreadySynced: 'already synced',
  locked: 'locked by another run',
  empty: 'source has no data',
  invalid: 'invalid source data',
  olderThanTrigger: 'source version older than trigger',
  olderThanSynced: 'source version older than synced',
  upToDate: 'up to date',
  alreadyWritten: 'already written',
  lockLost: 'lock lost',
} as const;

export interface SyncCounters {
  runs: number;
  /** Target writes applied. */
  writes: number;
  /** Runs that ended in a skip, by reason (target-level skips are in `targetSkips`). */
  skips: Record<string, number>;
  targetSkips: number;
  failures: number;
  /** Source fetches made. */
  fetches: number;
  /** State reads or updates that failed (the run went on: targets guard themselves). */
  stateErrors: number;
}

export function newSyncCounters(): SyncCounters {
  return { runs: 0, writes: 0, skips: {}, targetSkips: 0, failures: 0, fetches: 0, stateErrors: 0 };
}
