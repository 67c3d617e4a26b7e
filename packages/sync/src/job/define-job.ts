import { isSchemeName } from '@linktrace/sdk';
import { checkTierPolicy } from '../tiers/tier-policy.js';
import type { SyncJobDefinition } from './job-definition.js';

/** A job definition refused at start: names the job and every piece that is missing or wrong. */
export class JobDefinitionError extends Error {
  constructor(
    readonly job: string,
    readonly problems: readonly string[],
  ) {
    super(`sync job "${job}": ${problems.join('; ')}`);
    this.name = 'JobDefinitionError';
  }
}

/**
 * Checks a job definition and returns it unchanged; throws a JobDefinitionError listing everything
 * missing or wrong (not only the first), so a deployment fails at start, not at the first trigger.
 */
export function defineJob<T>(definition: SyncJobDefinition<T>): SyncJobDefinition<T> {
  const problems = jobProblems(definition);
  if (problems.length > 0) {
    const name = definition !== null && typeof definition === 'object' && typeof definition.name === 'string' && definition.name !== '' ? definition.name : '(unnamed)';
    throw new JobDefinitionError(name, problems);
  }
  return definition;
}

function jobProblems(d: unknown): string[] {
  if (d === null || typeof d !== 'object') return ['the definition is not an object'];
  const def = d as Partial<Record<keyof SyncJobDefinition<unknown>, unknown>>;
  const problems: string[] = [];
  if (typeof def.name !== 'string' || def.name === '') problems.push('missing name');
  if (typeof def.entityType !== 'string' || def.entityType === '') problems.push('missing entityType');
  if (typeof def.fetch !== 'function') problems.push('missing fetch (how to read an entity from the source)');
  if (!Array.isArray(def.targets) || def.targets.length === 0) {
    problems.push('missing targets (at least one { name, write })');
  } else {
    const names = new Set<string>();
    def.targets.forEach((t: unknown, i: number) => {
      if (t === null || typeof t !== 'object') return void problems.push(`targets[${i}] is not an object`);
      const { name, write, version } = t as Record<string, unknown>;
      if (typeof name !== 'string' || !isSchemeName(name)) problems.push(`targets[${i}].name must be scheme:name (e.g. postgres:user_shop)`);
      else if (names.has(name)) problems.push(`targets[${i}].name ${name} is given twice`);
      else names.add(name);
      if (typeof write !== 'function') problems.push(`missing targets[${i}].write`);
      if (version !== undefined && typeof version !== 'function') problems.push(`targets[${i}].version must be a function`);
    });
  }
  for (const fn of ['compareVersions', 'validate'] as const) {
    if (def[fn] !== undefined && typeof def[fn] !== 'function') problems.push(`${fn} must be a function`);
  }
  for (const ms of ['fetchTimeoutMs', 'writeTimeoutMs', 'lockTtlMs'] as const) {
    const v = def[ms];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) problems.push(`${ms} must be a positive number of ms`);
  }
  const w = def.recentWindowMs;
  if (w !== undefined && !(typeof w === 'number' && Number.isFinite(w) && w >= 0)) problems.push('recentWindowMs must be a number of ms ≥ 0');
  if (def.retry !== undefined) {
    const r = def.retry as Record<string, unknown> | null;
    if (r === null || typeof r !== 'object') problems.push('retry must be an object');
    else {
      if (r['maxAttempts'] !== undefined && !(Number.isSafeInteger(r['maxAttempts']) && (r['maxAttempts'] as number) >= 1)) problems.push('retry.maxAttempts must be an integer ≥ 1');
      for (const k of ['baseDelayMs', 'maxDelayMs']) {
        const v = r[k];
        if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) problems.push(`retry.${k} must be a number of ms ≥ 0`);
      }
    }
  }
  if (def.tiers !== undefined) problems.push(...checkTierPolicy(def.tiers).map((p) => `tiers: ${p}`));
  return problems;
}
