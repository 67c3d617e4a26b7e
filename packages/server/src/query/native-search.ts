/**
 * `GET /api/v1/traces` parameters -> a store query. Times are µs since the epoch or ISO 8601;
 * durations µs or with a unit (`10ms`); `attr=key=value` may repeat (all must hold); `hasFindings`
 * is `true` or `false`.
 */
import { MAX_TRACE_LIMIT, type TraceQuery } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { booleanParam, durationParam, enumParam, integerParam, listParam, rejectUnknownParams, stringParam, timeParam, type RawQuery } from './query-params.js';

export const SEARCH_PARAMS: ReadonlySet<string> = new Set([
  'service',
  'operation',
  'attr',
  'minDuration',
  'maxDuration',
  'start',
  'end',
  'status',
  'hasFindings',
  'limit',
]);

export const STATUS_VALUES = ['unset', 'ok', 'error'] as const;

/** `key=value` -> [key, value]; the key must not be empty, the value may be. */
export function parseAttributeFilter(text: string): [string, string] | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  return [text.slice(0, eq), text.slice(eq + 1)];
}

export function parseNativeSearch(raw: RawQuery): TraceQuery {
  rejectUnknownParams(raw, SEARCH_PARAMS);
  const query: TraceQuery = {};
  const service = stringParam(raw, 'service');
  if (service !== undefined) query.service = service;
  const operation = stringParam(raw, 'operation');
  if (operation !== undefined) query.operation = operation;
  const attrs = listParam(raw, 'attr');
  if (attrs.length > 0) {
    const attributes: Record<string, string> = {};
    for (const a of attrs) {
      const kv = parseAttributeFilter(a);
      if (kv === undefined) throw new ApiError('bad_request', `query parameter attr must be key=value, not ${JSON.stringify(a)}`);
      if (Object.hasOwn(attributes, kv[0])) throw new ApiError('bad_request', `query parameter attr names ${JSON.stringify(kv[0])} twice`);
      attributes[kv[0]] = kv[1];
    }
    query.attributes = attributes;
  }
  const minDurationUs = durationParam(raw, 'minDuration');
  const maxDurationUs = durationParam(raw, 'maxDuration');
  if (minDurationUs !== undefined && maxDurationUs !== undefined && maxDurationUs < minDurationUs) {
    throw new ApiError('bad_request', 'maxDuration must not be less than minDuration');
  }
  if (minDurationUs !== undefined) query.minDurationUs = minDurationUs;
  if (maxDurationUs !== undefined) query.maxDurationUs = maxDurationUs;
  const startUs = timeParam(raw, 'start');
  const endUs = timeParam(raw, 'end');
  if (startUs !== undefined && endUs !== undefined && endUs < startUs) throw new ApiError('bad_request', 'end must not be before start');
  if (startUs !== undefined) query.startUs = startUs;
  if (endUs !== undefined) query.endUs = endUs;
  const status = enumParam(raw, 'status', STATUS_VALUES);
  if (status !== undefined) query.status = status;
  const hasFindings = booleanParam(raw, 'hasFindings');
  if (hasFindings !== undefined) query.hasFindings = hasFindings;
  const limit = integerParam(raw, 'limit', 1, MAX_TRACE_LIMIT);
  if (limit !== undefined) query.limit = limit;
  return query;
}
