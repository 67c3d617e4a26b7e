import type { EntityState, SyncStateStore } from './sync-state.js';

/** Sync state in this process's memory. */
export class MemorySyncState implements SyncStateStore {
  private readonly jobs = new Map<string, Map<string, EntityState>>();

  private of(job: string): Map<string, EntityState> {
    let m = this.jobs.get(job);
    if (m === undefined) this.jobs.set(job, (m = new Map()));
    return m;
  }

  get(job: string, key: string): Promise<EntityState | undefined> {
    const s = this.jobs.get(job)?.get(key);
    return Promise.resolve(s === undefined ? undefined : { ...s });
  }

  update(job: string, key: string, patch: EntityState): Promise<void> {
    const m = this.of(job);
    const s = { ...m.get(key) };
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) (s as Record<string, unknown>)[k] = v;
    m.set(key, s);
    return Promise.resolve();
  }

  claimDue(job: string, now: number, limit: number, leaseMs: number): Promise<string[]> {
    const due = [...this.of(job)].filter(([, s]) => s.dueAt !== undefined && s.dueAt <= now).sort((a, b) => a[1].dueAt! - b[1].dueAt!);
    const keys = due.slice(0, Math.max(0, limit)).map(([k, s]) => {
      s.dueAt = now + leaseMs;
      return k;
    });
    return Promise.resolve(keys);
  }

  async scan(job: string, fn: (key: string, state: EntityState) => Promise<void> | void): Promise<void> {
    for (const [k, s] of [...this.of(job)]) await fn(k, { ...s });
  }
}
