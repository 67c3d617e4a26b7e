/**
 * Input checks shared by every backend, so that all of them accept and refuse exactly the same
 * spans, queries and findings (the contract suite relies on it). Each check throws a
 * `StorageInputError` naming the first problem found.
 */
import { isValidSpanId, isValidTraceId, SPAN_KINDS } from '@linktrace/model';
import type { AttributeScalar, Span } from '@linktrace/model';
import { StorageInputError } from './storage-error.js';
import type { StorageInputErrorCode } from './storage-error.js';
import {
  DEFAULT_FINDING_LIMIT,
  DEFAULT_TRACE_LIMIT,
  MAX_FINDING_LIMIT,
  MAX_TRACE_LIMIT,
  RULE_IDS,
} from './types.js';
import type { Finding, FindingFilter, TraceQuery } from './types.js';

const KINDS = new Set<unknown>(SPAN_KINDS);
const STATUS_CODES = new Set<unknown>(['unset', 'ok', 'error']);
const RULES = new Set<unknown>(RULE_IDS);

/** A query with its defaults applied. */
export interface NormalizedTraceQuery extends TraceQuery {
  limit: number;
  attributeList: [string, AttributeScalar][];
}

export interface NormalizedFindingFilter extends FindingFilter {
  limit: number;
}

function fail(code: StorageInputErrorCode, field: string, message: string): never {
  throw new StorageInputError(code, field, message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is AttributeScalar {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

function checkAttributes(attrs: unknown, field: string): void {
  if (!isRecord(attrs) || attrs instanceof Uint8Array) fail('invalid_span', field, `${field} must be an object`);
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    if (isScalar(v) || v instanceof Uint8Array) continue;
    if (Array.isArray(v) && v.every(isScalar)) continue;
    fail('invalid_span', `${field}.${key}`, `${field}.${key}: unsupported attribute value`);
  }
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

/** Throws unless `span` has the shape of the model's `Span` (DESIGN §3). */
export function validateSpan(span: unknown, index = 0): asserts span is Span {
  const at = `spans[${index}]`;
  if (!isRecord(span)) fail('invalid_span', at, `${at} is not an object`);
  const s = span as Partial<Span>;
  if (!isValidTraceId(s.traceId, true)) fail('invalid_span', `${at}.traceId`, `${at}.traceId must be 32 or 16 lowercase hex, not all zero`);
  if (!isValidSpanId(s.spanId)) fail('invalid_span', `${at}.spanId`, `${at}.spanId must be 16 lowercase hex, not all zero`);
  if (s.parentSpanId !== undefined && !isValidSpanId(s.parentSpanId)) {
    fail('invalid_span', `${at}.parentSpanId`, `${at}.parentSpanId must be 16 lowercase hex when present`);
  }
  if (typeof s.service !== 'string') fail('invalid_span', `${at}.service`, `${at}.service must be a string`);
  if (typeof s.name !== 'string') fail('invalid_span', `${at}.name`, `${at}.name must be a string`);
  if (!KINDS.has(s.kind)) fail('invalid_span', `${at}.kind`, `${at}.kind must be one of ${SPAN_KINDS.join(', ')}`);
  if (!isTime(s.startUs)) fail('invalid_span', `${at}.startUs`, `${at}.startUs must be a non-negative safe number of µs`);
  if (s.durationUs !== undefined && !isTime(s.durationUs)) {
    fail('invalid_span', `${at}.durationUs`, `${at}.durationUs must be a non-negative safe number of µs when present`);
  }
  if (!isRecord(s.status) || !STATUS_CODES.has(s.status.code)) {
    fail('invalid_span', `${at}.status`, `${at}.status.code must be unset, ok or error`);
  }
  if (s.status.message !== undefined && typeof s.status.message !== 'string') {
    fail('invalid_span', `${at}.status.message`, `${at}.status.message must be a string when present`);
  }
  for (const f of ['rpcid', 'instance', 'traceState'] as const) {
    if (s[f] !== undefined && typeof s[f] !== 'string') fail('invalid_span', `${at}.${f}`, `${at}.${f} must be a string when present`);
  }
  checkAttributes(s.attributes, `${at}.attributes`);
  if (s.resource !== undefined) checkAttributes(s.resource, `${at}.resource`);
  if (s.scope !== undefined) {
    if (!isRecord(s.scope) || typeof s.scope.name !== 'string') fail('invalid_span', `${at}.scope`, `${at}.scope.name must be a string`);
    if (s.scope.version !== undefined && typeof s.scope.version !== 'string') {
      fail('invalid_span', `${at}.scope.version`, `${at}.scope.version must be a string when present`);
    }
    if (s.scope.attributes !== undefined) checkAttributes(s.scope.attributes, `${at}.scope.attributes`);
  }
  if (!Array.isArray(s.events)) fail('invalid_span', `${at}.events`, `${at}.events must be an array`);
  for (let i = 0; i < s.events.length; i++) {
    const e: unknown = s.events[i];
    if (!isRecord(e) || !isTime(e.timeUs) || typeof e.name !== 'string') {
      fail('invalid_span', `${at}.events[${i}]`, `${at}.events[${i}] needs a timeUs and a name`);
    }
    if (e.attributes !== undefined) checkAttributes(e.attributes, `${at}.events[${i}].attributes`);
  }
  if (!Array.isArray(s.links)) fail('invalid_span', `${at}.links`, `${at}.links must be an array`);
  for (let i = 0; i < s.links.length; i++) {
    const l: unknown = s.links[i];
    if (!isRecord(l) || typeof l.traceId !== 'string' || typeof l.spanId !== 'string') {
      fail('invalid_span', `${at}.links[${i}]`, `${at}.links[${i}] needs a traceId and a spanId`);
    }
    if (l.traceState !== undefined && typeof l.traceState !== 'string') {
      fail('invalid_span', `${at}.links[${i}].traceState`, `${at}.links[${i}].traceState must be a string when present`);
    }
    if (l.attributes !== undefined) checkAttributes(l.attributes, `${at}.links[${i}].attributes`);
  }
  if (s.remote !== undefined && !isRecord(s.remote)) fail('invalid_span', `${at}.remote`, `${at}.remote must be an object`);
  if (s.doubleKeys !== undefined && !(Array.isArray(s.doubleKeys) && s.doubleKeys.every((k) => typeof k === 'string'))) {
    fail('invalid_span', `${at}.doubleKeys`, `${at}.doubleKeys must be an array of strings`);
  }
  if (s.dropped !== undefined && !isRecord(s.dropped)) fail('invalid_span', `${at}.dropped`, `${at}.dropped must be an object`);
  for (const f of ['startUnknown', 'durationUnknown'] as const) {
    if (s[f] !== undefined && typeof s[f] !== 'boolean') fail('invalid_span', `${at}.${f}`, `${at}.${f} must be a boolean when present`);
  }
}

export function validateSpans(spans: unknown): asserts spans is readonly Span[] {
  if (!Array.isArray(spans)) fail('invalid_span', 'spans', 'spans must be an array');
  for (let i = 0; i < spans.length; i++) validateSpan(spans[i], i);
}

function optionalString(code: StorageInputErrorCode, v: unknown, field: string): void {
  if (v !== undefined && typeof v !== 'string') fail(code, field, `${field} must be a string`);
}

function optionalTime(code: StorageInputErrorCode, v: unknown, field: string, signed = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || (!signed && v < 0)) {
    fail(code, field, `${field} must be a finite${signed ? '' : ' non-negative'} number`);
  }
}

function limitOf(code: StorageInputErrorCode, v: unknown, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) fail(code, 'limit', `limit must be an integer in 1..${max}`);
  return v;
}

export function validateTraceQuery(query: unknown): NormalizedTraceQuery {
  if (!isRecord(query)) fail('invalid_query', 'query', 'the query must be an object');
  const q = query as TraceQuery;
  optionalString('invalid_query', q.service, 'service');
  optionalString('invalid_query', q.operation, 'operation');
  optionalTime('invalid_query', q.minDurationUs, 'minDurationUs');
  optionalTime('invalid_query', q.maxDurationUs, 'maxDurationUs');
  optionalTime('invalid_query', q.startUs, 'startUs', true);
  optionalTime('invalid_query', q.endUs, 'endUs', true);
  if (q.status !== undefined && !STATUS_CODES.has(q.status)) fail('invalid_query', 'status', 'status must be unset, ok or error');
  if (q.hasFindings !== undefined && typeof q.hasFindings !== 'boolean') fail('invalid_query', 'hasFindings', 'hasFindings must be true or false');
  const attributeList: [string, AttributeScalar][] = [];
  if (q.attributes !== undefined && q.attributes !== null) {
    if (!isRecord(q.attributes)) fail('invalid_query', 'attributes', 'attributes must be an object of key = value');
    for (const [k, v] of Object.entries(q.attributes)) {
      if (!isScalar(v) || (typeof v === 'number' && !Number.isFinite(v))) {
        fail('invalid_query', `attributes.${k}`, `attributes.${k} must be a string, a finite number or a boolean`);
      }
      attributeList.push([k, v]);
    }
  }
  return { ...q, limit: limitOf('invalid_query', q.limit, DEFAULT_TRACE_LIMIT, MAX_TRACE_LIMIT), attributeList };
}

/** Throws unless both bounds are finite numbers (µs since the epoch). */
export function validateTimeRange(startUs: unknown, endUs: unknown): void {
  if (typeof startUs !== 'number' || !Number.isFinite(startUs)) fail('invalid_query', 'startUs', 'startUs must be a finite number');
  if (typeof endUs !== 'number' || !Number.isFinite(endUs)) fail('invalid_query', 'endUs', 'endUs must be a finite number');
}

export function validateServiceName(service: unknown, kind?: unknown): asserts service is string {
  if (typeof service !== 'string') fail('invalid_query', 'service', 'service must be a string');
  if (kind !== undefined && !KINDS.has(kind)) fail('invalid_query', 'kind', `kind must be one of ${SPAN_KINDS.join(', ')}`);
}

export function validateFindings(findings: unknown): asserts findings is readonly Finding[] {
  if (!Array.isArray(findings)) fail('invalid_finding', 'findings', 'findings must be an array');
  for (let i = 0; i < findings.length; i++) {
    const at = `findings[${i}]`;
    const f: unknown = findings[i];
    if (!isRecord(f)) fail('invalid_finding', at, `${at} is not an object`);
    if (!isValidTraceId(f.traceId, true)) fail('invalid_finding', `${at}.traceId`, `${at}.traceId must be 32 or 16 lowercase hex`);
    if (!RULES.has(f.rule)) fail('invalid_finding', `${at}.rule`, `${at}.rule must be one of ${RULE_IDS.join(', ')}`);
    for (const k of ['service', 'spanId', 'message'] as const) {
      if (typeof f[k] !== 'string') fail('invalid_finding', `${at}.${k}`, `${at}.${k} must be a string`);
    }
    if (!isTime(f.timeUs)) fail('invalid_finding', `${at}.timeUs`, `${at}.timeUs must be a non-negative number of µs`);
    if (f.entity !== undefined) {
      const e = f.entity;
      if (!isRecord(e) || typeof e.type !== 'string' || typeof e.key !== 'string' || (e.version !== undefined && typeof e.version !== 'string')) {
        fail('invalid_finding', `${at}.entity`, `${at}.entity needs string type and key (and version when present)`);
      }
    }
    optionalString('invalid_finding', f.target, `${at}.target`);
    optionalString('invalid_finding', f.rpcid, `${at}.rpcid`);
  }
}

export function validateFindingFilter(filter: unknown): NormalizedFindingFilter {
  if (filter === undefined) return { limit: DEFAULT_FINDING_LIMIT };
  if (!isRecord(filter)) fail('invalid_query', 'filter', 'the findings filter must be an object');
  const f = filter as FindingFilter;
  optionalString('invalid_query', f.traceId, 'traceId');
  optionalString('invalid_query', f.service, 'service');
  if (f.rule !== undefined && !RULES.has(f.rule)) fail('invalid_query', 'rule', `rule must be one of ${RULE_IDS.join(', ')}`);
  optionalTime('invalid_query', f.startUs, 'startUs', true);
  optionalTime('invalid_query', f.endUs, 'endUs', true);
  return { ...f, limit: limitOf('invalid_query', f.limit, DEFAULT_FINDING_LIMIT, MAX_FINDING_LIMIT) };
}

/** Zipkin treats a 16-hex id and the 32-hex id with 16 leading zeros as one trace; so do we. */
export function equivalentTraceIds(traceId: string): string[] {
  if (traceId.length === 16) return [traceId, `0000000000000000${traceId}`];
  if (traceId.startsWith('0000000000000000')) return [traceId, traceId.slice(16)];
  return [traceId];
}

