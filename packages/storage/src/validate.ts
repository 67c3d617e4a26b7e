/**
 * Input checks shared by every backend, so that all of them accept and refuse exactly the same
 * spans, queries and findings (the contract suite relies on it). Each check throws a
 * `StorageInputError` naming the first problem found. Spans are checked by the model's rules
 * (`findSpanProblem`), the same the decoders apply: one rule set, here only reported as storage errors.
 */
import { findSpanProblem, isValidTraceId, SPAN_KINDS } from '@linktrace/model';
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
import type { Finding, FindingFilter, SdkDropReport, TraceQuery, WriteSpansOptions } from './types.js';

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

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

/**
 * Throws unless `span` passes the model's span rules (`findSpanProblem`, the one rule set the
 * decoders apply too), naming it by its place in the batch: field `spans[i].<part at fault>`.
 */
export function validateSpan(span: unknown, index = 0): asserts span is Span {
  const problem = findSpanProblem(span);
  if (problem === undefined) return;
  const at = `spans[${index}]`;
  if (problem.field === '') fail('invalid_span', at, `${at} is not an object`);
  fail('invalid_span', `${at}.${problem.field}`, `${at}.${problem.message}`);
}

export function validateSpans(spans: unknown): asserts spans is readonly Span[] {
  if (!Array.isArray(spans)) fail('invalid_span', 'spans', 'spans must be an array');
  for (let i = 0; i < spans.length; i++) validateSpan(spans[i], i);
}

/** Checks `writeSpans`' options; a bad arrival is the caller's bug (RangeError), not a bad span. */
export function validateWriteOptions(options: WriteSpansOptions | undefined): void {
  const at = options?.arrivedUs;
  if (at !== undefined && !(Number.isSafeInteger(at) && at >= 0)) {
    throw new RangeError(`writeSpans: arrivedUs must be a non-negative integer of µs since the epoch, got ${String(at)}`);
  }
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

export function validateSdkDropReports(reports: unknown): asserts reports is readonly SdkDropReport[] {
  if (!Array.isArray(reports)) fail('invalid_sdk_drops', 'reports', 'SDK drop reports must be an array');
  for (let i = 0; i < reports.length; i++) {
    const at = `reports[${i}]`;
    const r: unknown = reports[i];
    if (!isRecord(r)) fail('invalid_sdk_drops', at, `${at} is not an object`);
    if (typeof r.service !== 'string' || r.service === '') fail('invalid_sdk_drops', `${at}.service`, `${at}.service must be a non-empty string`);
    if (typeof r.instance !== 'string') fail('invalid_sdk_drops', `${at}.instance`, `${at}.instance must be a string ('' when unknown)`);
    if (!Number.isSafeInteger(r.droppedSpans) || (r.droppedSpans as number) < 0) {
      fail('invalid_sdk_drops', `${at}.droppedSpans`, `${at}.droppedSpans must be a non-negative integer`);
    }
    if (!isTime(r.reportedUs)) fail('invalid_sdk_drops', `${at}.reportedUs`, `${at}.reportedUs must be a non-negative number of µs`);
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

