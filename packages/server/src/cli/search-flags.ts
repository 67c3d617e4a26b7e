/**
 * `linktrace search` flags -> a store query, with the same filters as `GET /api/v1/traces`.
 * Durations take units (`10ms`, `1.5s`; a bare number is µs); `--since` takes a duration back from
 * now (`1h`) or a time (ISO 8601 or µs since the epoch), as does `--until`.
 */
import { MAX_TRACE_LIMIT, type TraceQuery } from '@linktrace/storage';
import { parseDurationUs } from '../query/duration-text.js';
import { STATUS_VALUES, parseAttributeFilter } from '../query/native-search.js';
import { parseTimeUs } from '../query/time-text.js';

export interface SearchFlags {
  service?: string;
  operation?: string;
  attr?: readonly string[];
  minDuration?: string;
  maxDuration?: string;
  since?: string;
  until?: string;
  status?: string;
  limit?: string;
}

/** A time flag: a duration before `nowMs`, or an absolute time. */
export function timeFlagUs(name: string, text: string, nowMs: number): number {
  const ago = parseDurationUs(text);
  if (ago !== undefined && !/^[0-9]+$/.test(text.trim())) return nowMs * 1000 - ago;
  const at = parseTimeUs(text);
  if (at === undefined) throw new Error(`--${name} ${JSON.stringify(text)} is neither a duration (1h, 30m) nor a time (ISO 8601 or µs since the epoch)`);
  return at;
}

function durationFlag(name: string, text: string): number {
  const us = parseDurationUs(text);
  if (us === undefined) throw new Error(`--${name} ${JSON.stringify(text)} is not a duration (e.g. 250us, 10ms, 1.5s; a bare number is µs)`);
  return us;
}

/** Throws an Error naming the flag on a bad value. */
export function searchQueryFromFlags(flags: SearchFlags, nowMs: number): TraceQuery {
  const q: TraceQuery = {};
  if (flags.service !== undefined) q.service = flags.service;
  if (flags.operation !== undefined) q.operation = flags.operation;
  if (flags.attr !== undefined && flags.attr.length > 0) {
    const attributes: Record<string, string> = {};
    for (const a of flags.attr) {
      const kv = parseAttributeFilter(a);
      if (kv === undefined) throw new Error(`--attr ${JSON.stringify(a)} is not key=value`);
      if (Object.hasOwn(attributes, kv[0])) throw new Error(`--attr names ${JSON.stringify(kv[0])} twice`);
      attributes[kv[0]] = kv[1];
    }
    q.attributes = attributes;
  }
  if (flags.minDuration !== undefined) q.minDurationUs = durationFlag('min-duration', flags.minDuration);
  if (flags.maxDuration !== undefined) q.maxDurationUs = durationFlag('max-duration', flags.maxDuration);
  if (q.minDurationUs !== undefined && q.maxDurationUs !== undefined && q.maxDurationUs < q.minDurationUs) {
    throw new Error('--max-duration is less than --min-duration');
  }
  if (flags.since !== undefined) q.startUs = timeFlagUs('since', flags.since, nowMs);
  if (flags.until !== undefined) q.endUs = timeFlagUs('until', flags.until, nowMs);
  if (q.startUs !== undefined && q.endUs !== undefined && q.endUs < q.startUs) throw new Error('--until is before --since');
  if (flags.status !== undefined) {
    if (!(STATUS_VALUES as readonly string[]).includes(flags.status)) throw new Error(`--status must be one of ${STATUS_VALUES.join(', ')}`);
    q.status = flags.status as TraceQuery['status'];
  }
  if (flags.limit !== undefined) {
    const n = /^[0-9]+$/.test(flags.limit) ? Number(flags.limit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_TRACE_LIMIT) throw new Error(`--limit must be an integer in 1..${MAX_TRACE_LIMIT}`);
    q.limit = n;
  }
  return q;
}
