/**
 * Remedy settings (`serve --remedy-token … --remedy-secret …`). Remedies are off unless both are set:
 * the token is the scope that may request one, the secret signs what instances are asked to run.
 */
import { ConfigError } from '../config.js';

export interface RemedyOptions {
  /** Bearer token with the `remedy` scope: the only credential that may request a remedy. */
  token: string;
  /** Shared with the instances (`LINKTRACE_REMEDY_SECRET`): signs deliveries and their results. */
  secret: string;
  /** A remedy no live instance has claimed within this expires. Default 1 h. */
  ttlMs: number;
  /** A claimed remedy whose result has not come back within this fails (the handler hung or died). Default 60 s. */
  leaseMs: number;
  /** An instance that has not asked for work within this is no longer counted as live. Default 60 s. */
  liveWindowMs: number;
  /** Remedies a service may be asked for per minute (requests past it answer 429). Default 30. */
  perServicePerMinute: number;
  /** Remedies not yet finished, at most. Default 10 000. */
  maxOpen: number;
  /** How long after a succeeded remedy its trace must be stored and checked before it fails verification. Default 120 s. */
  verifyWithinMs: number;
}

export const DEFAULT_REMEDY_OPTIONS = {
  ttlMs: 3_600_000,
  leaseMs: 60_000,
  liveWindowMs: 60_000,
  perServicePerMinute: 30,
  maxOpen: 10_000,
  verifyWithinMs: 120_000,
} as const;

/** Complete options from the given ones; throws ConfigError naming what is missing or wrong. */
export function remedyOptions(given: Partial<RemedyOptions>): RemedyOptions {
  if (given.token === undefined || given.token === '') throw new ConfigError('remedies need --remedy-token (the scope that may request a remedy)');
  if (given.secret === undefined || given.secret.length < 16) {
    throw new ConfigError('remedies need --remedy-secret (or LINKTRACE_REMEDY_SECRET) of at least 16 characters, shared with the instances that run them');
  }
  if (given.token === given.secret) throw new ConfigError('--remedy-token and --remedy-secret must differ: instances hold the secret and must not be able to request remedies');
  const options = { ...DEFAULT_REMEDY_OPTIONS, ...given } as RemedyOptions;
  for (const key of Object.keys(DEFAULT_REMEDY_OPTIONS) as (keyof typeof DEFAULT_REMEDY_OPTIONS)[]) {
    const value = options[key];
    if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`remedy option ${key}: ${String(value)} is not a positive number`);
  }
  return options;
}
