/**
 * `GET /api/traces` parameters in Jaeger's names and units (start/end in µs, durations as Go writes
 * them: `1.2s`, `100ms`) -> a store query, plus the span condition the store cannot check itself
 * (tags this API makes from model fields, such as `span.kind` or `otel.status_code`). Every problem
 * is an ApiError naming the parameter; the route answers it in Jaeger's `errors` shape.
 */
import type { StatusCode } from '@linktrace/model';
import { MAX_TRACE_LIMIT, type TraceQuery } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { candidateLimit } from './found-traces.js';
import { JAEGER_TAG, SYNTHETIC_SPAN_TAGS } from './jaeger-trace.js';
import { durationParam, integerParam, listParam, stringParam, type RawQuery } from './query-params.js';

export const JAEGER_DEFAULT_LIMIT = 100;
/** Without `start` (nor `lookback`), a search covers the two days before `end`. */
export const JAEGER_DEFAULT_LOOKBACK_US = 2 * 86_400_000_000;

export interface JaegerTagTerm {
  key: string;
  value: string;
}

/** What one span of a found trace must meet, checked on the Jaeger form of the trace. */
export interface JaegerSpanCondition {
  service?: string;
  operation?: string;
  minDurationUs?: number;
  maxDurationUs?: number;
  tags: readonly JaegerTagTerm[];
}

export interface JaegerSearch {
  query: TraceQuery;
  /** Present when the store's answer must be checked span by span. */
  check?: JaegerSpanCondition;
  limit: number;
}

function bad(param: string, why: string): ApiError {
  return new ApiError('bad_request', `unable to parse param '${param}': ${why}`);
}

/** Splits logfmt-ish text (`a=1 b="two words"`, `a:1`) into terms; undefined when a term has no value. */
function parseTagText(text: string): JaegerTagTerm[] | undefined {
  const terms: JaegerTagTerm[] = [];
  const TERM = /\s*([^\s=:"]+)[=:](?:"((?:[^"\\]|\\.)*)"|([^\s"]*))\s*/y;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const m = TERM.exec(text);
    if (m === null) return undefined;
    terms.push({ key: m[1]!, value: m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]! });
  }
  return terms;
}

/**
 * `tags` as Jaeger's API takes it, a JSON object of key -> value (`{"error":"true"}`), or as people
 * type it in Jaeger UI's search box (`error=true http.status_code=200`, or `k:v`); plus the older
 * repeated `tag=k:v` form.
 */
export function parseJaegerTags(raw: RawQuery, name = 'tags'): JaegerTagTerm[] {
  const terms: JaegerTagTerm[] = [];
  for (const text of listParam(raw, name)) {
    const t = text.trim();
    if (t.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch (err) {
        throw bad(name, `malformed JSON object (${(err as Error).message})`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(name, 'expected a JSON object of tag -> value');
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          throw bad(name, `the value of ${JSON.stringify(key)} must be a string, number or boolean`);
        }
        terms.push({ key, value: String(value) });
      }
    } else {
      const parsed = parseTagText(t);
      if (parsed === undefined) throw bad(name, `expected a JSON object or key=value pairs, not ${JSON.stringify(t.slice(0, 80))}`);
      terms.push(...parsed);
    }
  }
  for (const text of listParam(raw, 'tag')) {
    const at = text.indexOf(':');
    if (at <= 0) throw bad('tag', `malformed 'tag' parameter, expecting key:value, received: ${JSON.stringify(text.slice(0, 80))}`);
    terms.push({ key: text.slice(0, at), value: text.slice(at + 1) });
  }
  return terms;
}

/** The status a tag term asks for, when the term is about the status. */
function statusOf(t: JaegerTagTerm): StatusCode | undefined {
  if (t.key === JAEGER_TAG.error && t.value === 'true') return 'error';
  if (t.key === JAEGER_TAG.statusCode) {
    const v = t.value.toUpperCase();
    if (v === 'ERROR') return 'error';
    if (v === 'OK') return 'ok';
  }
  return undefined;
}

/** `start`/`end` (µs) or `end` minus `lookback` (Jaeger UI sends `1h`, `2d` or `custom`). */
function timeRange(raw: RawQuery, nowUs: number): { startUs: number; endUs: number } {
  const endUs = integerParam(raw, 'end', 0, Number.MAX_SAFE_INTEGER) ?? nowUs;
  let startUs = integerParam(raw, 'start', 0, Number.MAX_SAFE_INTEGER);
  if (startUs === undefined) {
    const lookback = stringParam(raw, 'lookback');
    const lookbackUs = lookback === undefined || lookback === 'custom' ? JAEGER_DEFAULT_LOOKBACK_US : durationParam(raw, 'lookback')!;
    startUs = Math.max(0, endUs - lookbackUs);
  }
  if (endUs < startUs) throw bad('end', `end (${endUs}) is before start (${startUs})`);
  return { startUs, endUs };
}

/** The parameter names of one search route (the v3 route spells them `query.serviceName`, …). */
export interface JaegerSearchNames {
  service: string;
  operation: string;
  tags: string;
  minDuration: string;
  maxDuration: string;
  limit: string;
  /** Without a service the search covers every service (v3); else a 400. */
  serviceRequired: boolean;
}

export const JAEGER_SEARCH_NAMES: JaegerSearchNames = {
  service: 'service',
  operation: 'operation',
  tags: 'tags',
  minDuration: 'minDuration',
  maxDuration: 'maxDuration',
  limit: 'limit',
  serviceRequired: true,
};

/** `start`/`end` are read under those names (µs) whatever `names` says: the v3 route converts its own. */
export function parseJaegerSearch(raw: RawQuery, nowUs: number, names: JaegerSearchNames = JAEGER_SEARCH_NAMES): JaegerSearch {
  const service = stringParam(raw, names.service);
  if (service === undefined && names.serviceRequired) throw new ApiError('bad_request', `parameter '${names.service}' is required`);
  const operation = stringParam(raw, names.operation);
  const tags = parseJaegerTags(raw, names.tags);
  const minDurationUs = durationParam(raw, names.minDuration);
  const maxDurationUs = durationParam(raw, names.maxDuration);
  if (minDurationUs !== undefined && maxDurationUs !== undefined && maxDurationUs < minDurationUs) {
    throw bad(names.maxDuration, `${names.maxDuration} must not be less than ${names.minDuration}`);
  }
  const { startUs, endUs } = timeRange(raw, nowUs);
  const limitParam = integerParam(raw, names.limit, 0, MAX_TRACE_LIMIT);
  // Jaeger reads 0 as "the default".
  const limit = limitParam === undefined || limitParam === 0 ? JAEGER_DEFAULT_LIMIT : limitParam;

  const query: TraceQuery = { startUs, endUs, limit };
  if (service !== undefined) query.service = service;
  if (operation !== undefined) query.operation = operation;
  if (minDurationUs !== undefined) query.minDurationUs = minDurationUs;
  if (maxDurationUs !== undefined) query.maxDurationUs = maxDurationUs;
  let attributes: Record<string, string> | undefined;
  let exact = true;
  for (const t of tags) {
    const status = statusOf(t);
    if (status !== undefined) query.status = status;
    // The store takes one value per key: a key asked twice is checked here (it holds only if both values do).
    if (SYNTHETIC_SPAN_TAGS.has(t.key) || (attributes?.[t.key] !== undefined && attributes[t.key] !== t.value)) exact = false;
    else (attributes ??= {})[t.key] = t.value;
  }
  if (attributes !== undefined) query.attributes = attributes;
  if (exact) return { query, limit };

  const check: JaegerSpanCondition = { tags };
  if (service !== undefined) check.service = service;
  if (operation !== undefined) check.operation = operation;
  if (minDurationUs !== undefined) check.minDurationUs = minDurationUs;
  if (maxDurationUs !== undefined) check.maxDurationUs = maxDurationUs;
  query.limit = candidateLimit(limit);
  return { query, check, limit };
}
