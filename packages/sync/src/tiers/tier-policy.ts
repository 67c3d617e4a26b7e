import type { EntityState } from '../state/sync-state.js';

export interface Tier {
  /** e.g. `active`, `occasional`, `dormant`. */
  name: string;
  /** Time between scheduled syncs of an entity of this tier. */
  periodMs: number;
  /**
   * An entity with activity (a demand trigger) within this long belongs here, when tiers are
   * recomputed from activity; the last tier takes everything else and needs none.
   */
  activeWithinMs?: number;
}

/**
 * Tiers, most active first, and the backoff of entities whose syncs keep returning nothing: after
 * n empty syncs in a row the next one waits `emptyBackoff.firstMs × factor^(n-1)` (capped at
 * `maxMs`) when that is longer than the tier's period; the first sync that finds data resets it.
 */
export interface TierPolicy {
  tiers: readonly Tier[];
  /** Default 1 day, doubling, at most 30 days. */
  emptyBackoff?: { firstMs?: number; factor?: number; maxMs?: number };
}

const DAY = 86_400_000;

/** What is wrong with a policy (empty when nothing). */
export function checkTierPolicy(policy: unknown): string[] {
  if (policy === null || typeof policy !== 'object') return ['must be an object with tiers'];
  const { tiers, emptyBackoff } = policy as Partial<TierPolicy>;
  const problems: string[] = [];
  if (!Array.isArray(tiers) || tiers.length === 0) problems.push('missing tiers (at least one { name, periodMs })');
  else {
    const names = new Set<string>();
    tiers.forEach((t: Partial<Tier> | null, i) => {
      if (t === null || typeof t !== 'object') return void problems.push(`tiers[${i}] is not an object`);
      if (typeof t.name !== 'string' || t.name === '') problems.push(`missing tiers[${i}].name`);
      else if (names.has(t.name)) problems.push(`tiers[${i}].name ${t.name} is given twice`);
      else names.add(t.name);
      if (!positive(t.periodMs)) problems.push(`tiers[${i}].periodMs must be a positive number of ms`);
      if (t.activeWithinMs !== undefined && !positive(t.activeWithinMs)) problems.push(`tiers[${i}].activeWithinMs must be a positive number of ms`);
    });
  }
  if (emptyBackoff !== undefined) {
    if (emptyBackoff === null || typeof emptyBackoff !== 'object') problems.push('emptyBackoff must be an object');
    else {
      if (emptyBackoff.firstMs !== undefined && !positive(emptyBackoff.firstMs)) problems.push('emptyBackoff.firstMs must be a positive number of ms');
      if (emptyBackoff.maxMs !== undefined && !positive(emptyBackoff.maxMs)) problems.push('emptyBackoff.maxMs must be a positive number of ms');
      if (emptyBackoff.factor !== undefined && !(positive(emptyBackoff.factor) && emptyBackoff.factor >= 1)) problems.push('emptyBackoff.factor must be a number ≥ 1');
    }
  }
  return problems;
}

function positive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** The tier of an entity: its own when it names a known tier, else the last (least active). */
export function tierOf(policy: TierPolicy, state: EntityState | undefined): Tier {
  const named = state?.tier === undefined ? undefined : policy.tiers.find((t) => t.name === state.tier);
  return named ?? policy.tiers[policy.tiers.length - 1]!;
}

/** The tier an entity belongs to from its last activity: the first whose `activeWithinMs` covers it. */
export function tierFromActivity(policy: TierPolicy, activeAt: number | undefined, now: number): Tier {
  if (activeAt !== undefined) {
    for (const tier of policy.tiers) {
      if (tier.activeWithinMs !== undefined && now - activeAt <= tier.activeWithinMs) return tier;
    }
  }
  return policy.tiers[policy.tiers.length - 1]!;
}

/** Time from a sync to the next scheduled one: the tier's period, or the empty-sync backoff when longer. */
export function periodOf(policy: TierPolicy, state: EntityState | undefined): number {
  const base = tierOf(policy, state).periodMs;
  const streak = state?.emptyStreak ?? 0;
  if (streak <= 0) return base;
  const first = policy.emptyBackoff?.firstMs ?? DAY;
  const factor = policy.emptyBackoff?.factor ?? 2;
  const max = policy.emptyBackoff?.maxMs ?? 30 * DAY;
  const backoff = Math.min(max, first * factor ** Math.min(streak - 1, 64));
  return Math.max(base, backoff);
}
