/**
 * Reading and checking URL query parameters. Every problem becomes a 400 `bad_request` (or
 * `invalid_trace_id`) naming the parameter, so a client learns exactly what to fix.
 */
import { isValidTraceId } from '@linktrace/model';
import { ApiError } from '../errors.js';
import { parseDurationUs } from './duration-text.js';
import { parseTimeUs } from './time-text.js';

/** What fastify's query-string parser produces: repeated keys become arrays. */
export type RawQuery = Record<string, string | string[] | undefined>;

function bad(message: string): ApiError {
  return new ApiError('bad_request', message);
}

/** Refuses parameters a route does not know (a misspelt filter would otherwise silently match everything). */
export function rejectUnknownParams(query: RawQuery, known: ReadonlySet<string>): void {
  for (const key in query) {
    if (!known.has(key)) throw bad(`unknown query parameter ${JSON.stringify(key)}; this route accepts: ${[...known].join(', ')}`);
  }
}

/** A single-valued parameter; undefined when absent or empty. */
export function stringParam(query: RawQuery, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`query parameter ${name} is given more than once`);
  return v === '' ? undefined : v;
}

/** A repeatable parameter, in the order given; empty values dropped. */
export function listParam(query: RawQuery, name: string): string[] {
  const v = query[name];
  if (v === undefined) return [];
  return (typeof v === 'string' ? [v] : v).filter((s) => s !== '');
}

export function requiredParam(query: RawQuery, name: string): string {
  const v = stringParam(query, name);
  if (v === undefined) throw bad(`query parameter ${name} is required`);
  return v;
}

const INTEGER = /^-?[0-9]{1,16}$/;

/** An integer in [min, max]; undefined when absent. */
export function integerParam(query: RawQuery, name: string, min: number, max: number): number | undefined {
  const v = stringParam(query, name);
  if (v === undefined) return undefined;
  const n = INTEGER.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw bad(`query parameter ${name} must be an integer in ${min}..${max}, not ${JSON.stringify(v)}`);
  }
  return n;
}

/** A duration in µs: an integer (µs) or a number with a unit (`250us`, `10ms`, `1.5s`, `1h`). */
export function durationParam(query: RawQuery, name: string): number | undefined {
  const v = stringParam(query, name);
  if (v === undefined) return undefined;
  const us = parseDurationUs(v);
  if (us === undefined) throw bad(`query parameter ${name} must be a duration (µs as an integer, or e.g. 10ms, 1.5s), not ${JSON.stringify(v)}`);
  return us;
}

/** A time in µs since the epoch: an integer (µs) or an ISO 8601 date/time (UTC unless a zone is given). */
export function timeParam(query: RawQuery, name: string): number | undefined {
  const v = stringParam(query, name);
  if (v === undefined) return undefined;
  const us = parseTimeUs(v);
  if (us === undefined || us < 0) {
    throw bad(`query parameter ${name} must be µs since the epoch or an ISO 8601 time, not ${JSON.stringify(v)}`);
  }
  return us;
}

/** Exactly `true` or `false`; undefined when absent. */
export function booleanParam(query: RawQuery, name: string): boolean | undefined {
  const v = stringParam(query, name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw bad(`query parameter ${name} must be true or false, not ${JSON.stringify(v)}`);
  return v === 'true';
}

/** One of `allowed`; undefined when absent. */
export function enumParam<T extends string>(query: RawQuery, name: string, allowed: readonly T[]): T | undefined {
  const v = stringParam(query, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw bad(`query parameter ${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  return v as T;
}

const HEX_TRACE_ID = /^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/;

/** A trace id of 16 or 32 hex digits in any case, returned lowercase. */
export function traceIdValue(raw: string, what = 'trace id'): string {
  const id = raw.toLowerCase();
  if (!HEX_TRACE_ID.test(raw) || !isValidTraceId(id, true)) {
    throw new ApiError('invalid_trace_id', `${what} ${JSON.stringify(raw.slice(0, 80))} is not 16 or 32 hex digits (and not all zero)`);
  }
  return id;
}
