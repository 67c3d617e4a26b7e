/**
 * `GET /api/v2/traces` parameters (Zipkin's names and units: endTs and lookback in ms, durations in
 * µs) -> a store query, plus the span condition the store cannot check exactly itself.
 */
import { MAX_TRACE_LIMIT, type TraceQuery } from '@linktrace/storage';
import { ZIPKIN_ERROR_TAG } from '@linktrace/model';
import { ApiError } from '../errors.js';
import { parseAnnotationQuery } from './annotation-query.js';
import { candidateLimit } from './found-traces.js';
import { integerParam, stringParam, type RawQuery } from './query-params.js';
import { storeCoversCondition, type ZipkinSpanCondition } from './zipkin-trace-filter.js';

/** Zipkin's defaults: 10 traces, one day back from now. */
export const ZIPKIN_DEFAULT_LIMIT = 10;
export const ZIPKIN_DEFAULT_LOOKBACK_MS = 86_400_000;

/** Zipkin tags that are span fields in the model, not attributes the store could match. */
const NOT_ATTRIBUTES = new Set(['otel.status_code', 'linktrace.rpcid', 'linktrace.instance']);

export interface ZipkinSearch {
  query: TraceQuery;
  /** Present when the store's answer must be checked span by span. */
  check?: ZipkinSpanCondition;
  /** Traces to return. */
  limit: number;
}

export function parseZipkinSearch(raw: RawQuery, nowMs: number): ZipkinSearch {
  const serviceName = stringParam(raw, 'serviceName');
  const remoteServiceName = stringParam(raw, 'remoteServiceName');
  let spanName = stringParam(raw, 'spanName');
  // Zipkin's UI sends `all` for "any span name".
  if (spanName === 'all') spanName = undefined;
  const annotationQuery = stringParam(raw, 'annotationQuery');
  const terms = annotationQuery === undefined ? [] : parseAnnotationQuery(annotationQuery);
  const minDurationUs = integerParam(raw, 'minDuration', 1, Number.MAX_SAFE_INTEGER);
  const maxDurationUs = integerParam(raw, 'maxDuration', 1, Number.MAX_SAFE_INTEGER);
  if (minDurationUs !== undefined && maxDurationUs !== undefined && maxDurationUs < minDurationUs) {
    throw new ApiError('bad_request', 'maxDuration must not be less than minDuration');
  }
  const endTs = integerParam(raw, 'endTs', 1, Number.MAX_SAFE_INTEGER / 1000) ?? nowMs;
  const lookback = integerParam(raw, 'lookback', 1, Number.MAX_SAFE_INTEGER / 1000) ?? ZIPKIN_DEFAULT_LOOKBACK_MS;
  const limit = integerParam(raw, 'limit', 1, MAX_TRACE_LIMIT) ?? ZIPKIN_DEFAULT_LIMIT;

  const query: TraceQuery = { startUs: Math.max(0, endTs - lookback) * 1000, endUs: endTs * 1000, limit };
  if (serviceName !== undefined) query.service = serviceName;
  if (spanName !== undefined) query.operation = spanName;
  if (minDurationUs !== undefined) query.minDurationUs = minDurationUs;
  if (maxDurationUs !== undefined) query.maxDurationUs = maxDurationUs;
  let attributes: Record<string, string> | undefined;
  for (const t of terms) {
    if (t.key === ZIPKIN_ERROR_TAG) query.status = 'error';
    else if (t.value !== undefined && !NOT_ATTRIBUTES.has(t.key)) (attributes ??= {})[t.key] = t.value;
  }
  if (attributes !== undefined) query.attributes = attributes;

  const condition: ZipkinSpanCondition = { terms };
  if (serviceName !== undefined) condition.serviceName = serviceName;
  if (spanName !== undefined) condition.spanName = spanName;
  if (remoteServiceName !== undefined) condition.remoteServiceName = remoteServiceName;
  if (minDurationUs !== undefined) condition.minDurationUs = minDurationUs;
  if (maxDurationUs !== undefined) condition.maxDurationUs = maxDurationUs;
  if (storeCoversCondition(condition)) return { query, limit };
  query.limit = candidateLimit(limit);
  return { query, check: condition, limit };
}
