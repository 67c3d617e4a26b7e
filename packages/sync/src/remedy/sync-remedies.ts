/**
 * Remedies for free (docs/remedies.md): a sync job's `replay` is a re-sync of the entity, run in the
 * remedy's trace so the re-check sees its `receive` → `write`/`skip`. Registered for the stages a
 * run records (`receive`, `process`, `write`: a `missing-write`, a `stage-error`, a
 * `missing-downstream-receive`), for the job's runs only (operation `receive <entity type>` and
 * siblings are matched by stage; the entity type must be the job's).
 */
import type { RemedyAgent, RemedyRequest, RemedyOutcome } from '@linktrace/sdk';
import type { SyncJob } from '../job/sync-job.js';
import { compareVersions, isVersion } from '../job/versions.js';

const STAGES = ['receive', 'process', 'write'] as const;

/** The outcome of re-syncing the entity a finding names. Throws when the run failed. */
export async function replayBySync(job: SyncJob<unknown>, request: RemedyRequest): Promise<RemedyOutcome> {
  const entity = request.entity;
  if (entity === undefined) throw new Error(`the finding names no entity: nothing to re-sync for job ${job.name}`);
  if (entity.type !== job.entityType) throw new Error(`job ${job.name} syncs ${job.entityType}, not ${entity.type}`);
  const outcome = await job.resync(entity.key);
  if (outcome.status === 'failed' || outcome.status === 'dropped') throw new Error(`re-sync of ${entity.type} ${entity.key} ${outcome.status}: ${outcome.reason ?? 'no reason given'}`);
  const asked = entity.version;
  if (outcome.written.length === 0 && asked !== undefined && isVersion(outcome.version) && compareVersions(outcome.version, asked) > 0) {
    return { superseded: true, reason: `version ${String(outcome.version)} already synced (the finding was about ${asked})` };
  }
  return undefined;
}

/** Registers `replay` handlers that re-sync for every job given (one job per entity type). */
export function registerSyncRemedies(agent: RemedyAgent, jobs: readonly SyncJob<unknown>[]): RemedyAgent {
  const byType = new Map<string, SyncJob<unknown>>();
  for (const job of jobs) {
    if (byType.has(job.entityType)) throw new Error(`registerSyncRemedies: two jobs sync ${job.entityType} (${byType.get(job.entityType)!.name}, ${job.name}); a remedy could not tell which to run`);
    byType.set(job.entityType, job);
  }
  const replay = (request: RemedyRequest): Promise<RemedyOutcome> => {
    const job = request.entity === undefined ? undefined : byType.get(request.entity.type);
    if (job === undefined) return Promise.reject(new Error(`no sync job here syncs ${request.entity?.type ?? 'an entity without a type'}`));
    return replayBySync(job, request);
  };
  for (const stage of STAGES) agent.register({ stage, replay });
  return agent;
}
