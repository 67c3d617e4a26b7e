import type { RunOutcome } from '../job/run-outcome.js';
import type { RunOptions, SyncJob } from '../job/sync-job.js';

/**
 * The jobs of one process by entity type: where a repair tool finds the job that syncs an entity
 * (`resync('shop', '42')` after a `missing-write` finding).
 */
export class SyncJobs {
  private readonly byType = new Map<string, SyncJob<unknown>>();

  register(job: SyncJob<never> | SyncJob<unknown>): this {
    const j = job as SyncJob<unknown>;
    if (this.byType.has(j.entityType)) throw new Error(`sync jobs: entity type ${j.entityType} already has job "${this.byType.get(j.entityType)!.name}"`);
    this.byType.set(j.entityType, j);
    return this;
  }

  get(entityType: string): SyncJob<unknown> | undefined {
    return this.byType.get(entityType);
  }

  get entityTypes(): string[] {
    return [...this.byType.keys()];
  }

  /** Syncs one entity now (see `SyncJob.resync`); rejects only when no job syncs that entity type. */
  resync(entityType: string, key: string, options?: RunOptions): Promise<RunOutcome> {
    const job = this.byType.get(entityType);
    if (job === undefined) return Promise.reject(new Error(`sync jobs: no job syncs entity type ${entityType} (have: ${this.entityTypes.join(', ') || 'none'})`));
    return job.resync(key, options);
  }
}
