/** A held per-entity lock. */
export interface LockLease {
  /** Fencing token: strictly greater than the token of any earlier acquisition from the same lock service. */
  readonly fence: number;
  /** True once the lease is known to be lost (expired, taken over, or the lock service failed). */
  readonly lost: boolean;
  /** Aborted when the lease is lost. */
  readonly signal: AbortSignal;
  /** Calls `fn` once when the lease is lost (at once if it already is). Cheaper than `signal` on the hot path. */
  onLost(fn: (reason: string) => void): void;
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

/**
 * The lease state shared by the implementations: lost once, with a reason. The AbortSignal is made
 * only when someone asks for it (an AbortController per run costs more than the rest of the run).
 */
export class LeaseState {
  lostReason: string | undefined;
  private controller: AbortController | undefined;
  private listeners: ((reason: string) => void)[] | undefined;

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.lostReason !== undefined) this.controller.abort(new Error(`lock lost: ${this.lostReason}`));
    }
    return this.controller.signal;
  }

  onLost(fn: (reason: string) => void): void {
    if (this.lostReason !== undefined) fn(this.lostReason);
    else (this.listeners ??= []).push(fn);
  }

  lose(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.controller?.abort(new Error(`lock lost: ${reason}`));
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const fn of listeners) fn(reason);
  }
}
