/**
 * Settings of tail sampling (`--keep`, `--keep-rate`, `--keep-window`, `--keep-max-pending`). Off
 * unless one of them is given: every trace is kept, as without sampling.
 *
 * `--keep` lists the policies that keep a whole trace (`error`, `finding`, `slow`; `all` keeps every
 * trace, `none` only what the rate budget and flows keep); `--keep-rate <n>/s` is the budget of the
 * other traces kept per second. `--keep` alone keeps no other trace (`0/s`); `--keep-rate` alone keeps
 * the default policies (`error,finding,slow`) too, so that sampling never drops a broken trace unless
 * told to.
 */
import { ConfigError, parseDuration, parseInteger } from '../config.js';

export const KEEP_POLICIES = ['error', 'finding', 'slow', 'all'] as const;
export type KeepPolicy = (typeof KEEP_POLICIES)[number];
/** Why a trace was kept (its policy, the rate budget, or its flow) or dropped (`rate`: over the budget). */
export type KeepReason = KeepPolicy | 'rate' | 'flow';
export const KEEP_REASONS: readonly KeepReason[] = [...KEEP_POLICIES, 'rate', 'flow'];

export const DEFAULT_KEEP_POLICIES: readonly KeepPolicy[] = ['error', 'finding', 'slow'];
/** Pending drop decisions held at most (each ~0.5 KB with its flow keys). */
export const DEFAULT_KEEP_MAX_PENDING = 100_000;
/** The flow window is this many check delays by default. */
export const FLOW_WINDOW_CHECK_DELAYS = 2;

export interface SamplingOptions {
  policies: readonly KeepPolicy[];
  /** Traces kept per second beyond the policies (a token bucket holding one second's worth, at least 1). */
  ratePerSecond: number;
  /**
   * How long a drop decision waits (ms, from when the trace was checked) for another trace of its
   * business flow to be kept, which keeps it too.
   */
  flowWindowMs: number;
  /** Most traces waiting for their drop decision; past it the oldest is decided at once (counted). */
  maxPending: number;
}

export interface KeepFlags {
  keep?: string;
  keepRate?: string;
  keepWindow?: string;
  keepMaxPending?: string;
}

const RATE_RE = /^(\d+(?:\.\d+)?)\/(s|m|h)$/;
const RATE_UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600 };
/** A higher budget is no budget: use `--keep all`. */
const MAX_RATE_PER_SECOND = 1_000_000;

/** `100/s`, `30/m`, `0.5/s` -> traces per second. */
export function parseKeepRate(text: string, what = '--keep-rate'): number {
  const m = RATE_RE.exec(text.trim());
  if (m === null) throw new ConfigError(`${what}: "${text}" is not a rate; use traces per second, minute or hour, e.g. 100/s, 30/m`);
  const perSecond = Number(m[1]) / RATE_UNIT_S[m[2]!]!;
  if (!(perSecond <= MAX_RATE_PER_SECOND)) throw new ConfigError(`${what}: "${text}" is more than ${MAX_RATE_PER_SECOND}/s; to keep every trace use --keep all`);
  return perSecond;
}

/** `error,slow` -> policies; `all` alone; `none` -> []. */
export function parseKeepPolicies(text: string, what = '--keep'): KeepPolicy[] {
  const words = text.split(',').map((w) => w.trim().toLowerCase());
  if (words.length === 1 && words[0] === 'none') return [];
  const out: KeepPolicy[] = [];
  for (const w of words) {
    if (!(KEEP_POLICIES as readonly string[]).includes(w)) {
      throw new ConfigError(`${what}: "${w}" is not a policy; use a comma-separated list of ${KEEP_POLICIES.filter((p) => p !== 'all').join(', ')}, or all, or none`);
    }
    if (!out.includes(w as KeepPolicy)) out.push(w as KeepPolicy);
  }
  if (out.includes('all') && out.length > 1) throw new ConfigError(`${what}: all keeps every trace; give it alone`);
  return out;
}

/** The flags as typed -> options, or undefined when sampling is off (none given). Throws ConfigError naming the flag. */
export function parseKeepFlags(flags: KeepFlags, checkDelayMs: number): SamplingOptions | undefined {
  const { keep, keepRate, keepWindow, keepMaxPending } = flags;
  if (keep === undefined && keepRate === undefined) {
    if (keepWindow !== undefined) throw new ConfigError('--keep-window: tail sampling is off; give --keep or --keep-rate');
    if (keepMaxPending !== undefined) throw new ConfigError('--keep-max-pending: tail sampling is off; give --keep or --keep-rate');
    return undefined;
  }
  const policies = keep === undefined ? DEFAULT_KEEP_POLICIES : parseKeepPolicies(keep);
  const ratePerSecond = keepRate === undefined ? 0 : parseKeepRate(keepRate);
  if (policies.includes('all') && keepRate !== undefined) throw new ConfigError('--keep-rate: --keep all keeps every trace already; drop one of them');
  if (policies.length === 0 && keepRate === undefined) throw new ConfigError('--keep none: keeps only the --keep-rate budget; give --keep-rate (e.g. 100/s)');
  return {
    policies,
    ratePerSecond,
    flowWindowMs: keepWindow === undefined ? FLOW_WINDOW_CHECK_DELAYS * checkDelayMs : parseDuration(keepWindow, '--keep-window'),
    maxPending: keepMaxPending === undefined ? DEFAULT_KEEP_MAX_PENDING : parseInteger(keepMaxPending, '--keep-max-pending', 1, 10_000_000),
  };
}

/** Checks options given programmatically (the app's `sampling`); throws ConfigError. */
export function resolveSampling(options: SamplingOptions): SamplingOptions {
  for (const p of options.policies) if (!(KEEP_POLICIES as readonly string[]).includes(p)) throw new ConfigError(`sampling.policies: "${String(p)}" is not a policy`);
  if (!Number.isFinite(options.ratePerSecond) || options.ratePerSecond < 0) throw new ConfigError(`sampling.ratePerSecond: ${String(options.ratePerSecond)} is not a number ≥ 0`);
  if (!Number.isSafeInteger(options.flowWindowMs) || options.flowWindowMs <= 0) throw new ConfigError(`sampling.flowWindowMs: ${String(options.flowWindowMs)} is not a positive whole number`);
  if (!Number.isSafeInteger(options.maxPending) || options.maxPending <= 0) throw new ConfigError(`sampling.maxPending: ${String(options.maxPending)} is not a positive whole number`);
  return options;
}

/** `error,finding,slow + 100/s` — the policy as the banner and /healthz show it. */
export function describeSampling(options: SamplingOptions): string {
  const policies = options.policies.length === 0 ? 'none' : options.policies.join(',');
  if (options.policies.includes('all')) return 'all (every trace kept)';
  return `${policies} + ${options.ratePerSecond}/s, flows kept together within ${options.flowWindowMs} ms`;
}
