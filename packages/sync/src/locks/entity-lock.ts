/** A held per-entity lock. */
export interface LockLease {
  /** Fencing token: strictly greater than the token of any earlier acquisition from the same lock service. */
  readonly fence: number;
  /** True once the lease is known to be lost (expired, taken over, or the lock service failed). */
  readonly lost: boolean;
  /** Aborted when the lease is lost. */
  readonly signal: AbortSignal;
  /** Asks the lock service whether the lease is still held (and extends it); false, and `lost`, when not. Never rejects. */
  confirm(): Promise<boolean>;
  /** Gives the lock up; never rejects (a lease that cannot be released expires). */
  release(): Promise<void>;
}

/**
 * Per-entity mutual exclusion across processes: Redis with fencing tokens, PostgreSQL advisory
 * locks, or memory for one process.
 */
export interface EntityLocks {
  /**
   * Tries to take the lock named `name` for `ttlMs` (renewed while held). Resolves undefined when
   * someone else holds it; rejects when the lock service cannot be reached.
   */
  acquire(name: string, ttlMs: number): Promise<LockLease | undefined>;
  close?(): Promise<void>;
}

/** The lease state shared by the implementations: one AbortController, lost once. */
export class LeaseState {
  private readonly controller = new AbortController();
  lostReason: string | undefined;

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  lose(reason: string): void {
    if (this.lost) return;
    this.lostReason = reason;
    this.controller.abort(new Error(`lock lost: ${reason}`));
  }
}
