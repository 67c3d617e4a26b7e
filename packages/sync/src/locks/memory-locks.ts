import { LeaseState, type EntityLocks, type LockLease } from './entity-lock.js';

/** Locks for the workers of one process (tests, the demo). Leases never expire; `revoke` simulates a loss. */
export class MemoryLocks implements EntityLocks {
  private readonly held = new Map<string, LeaseState>();
  private fence = 0;

  acquire(name: string): Promise<LockLease | undefined> {
    if (this.held.has(name)) return Promise.resolve(undefined);
    const state = new LeaseState();
    this.held.set(name, state);
    const fence = ++this.fence;
    const release = (): Promise<void> => {
      if (this.held.get(name) === state) this.held.delete(name);
      return Promise.resolve();
    };
    return Promise.resolve({
      fence,
      get lost() {
        return state.lost;
      },
      get signal() {
        return state.signal;
      },
      onLost: (fn) => state.onLost(fn),
      confirm: () => Promise.resolve(!state.lost),
      release,
    });
  }

  /** Takes the lock away from its holder, as an expiry would (tests). */
  revoke(name: string): boolean {
    const state = this.held.get(name);
    if (state === undefined) return false;
    this.held.delete(name);
    state.lose('revoked');
    return true;
  }

  isHeld(name: string): boolean {
    return this.held.has(name);
  }
}
