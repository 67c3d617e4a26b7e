/**
 * Reads the data-synchronisation attributes of DESIGN §3 from a span. Spans come from any tracer
 * and may be malformed, so every read is type-checked and nothing here throws.
 */
import { ATTR } from '@linktrace/model';
import type { Span, Stage } from '@linktrace/model';
import type { FindingEntity } from './finding.js';

/** What a `linktrace.target` expects after it: a downstream receive, a consumer, or nothing. */
export type TargetKind = 'service' | 'queue' | 'store';

const SERVICE_SCHEMES = new Set(['http', 'https', 'rpc', 'grpc']);
const QUEUE_SCHEMES = new Set(['mq']);
const KNOWN_STAGES = new Set<string>(['receive', 'process', 'write', 'skip', 'enqueue', 'dequeue', 'consume']);

/** A stage value this version does not know: still a stage span (for `stage-error`), no other role. */
export const UNKNOWN_STAGE = 'unknown';
export type StageFact = Stage | typeof UNKNOWN_STAGE;

function attrs(span: Span): Record<string, unknown> | undefined {
  const a = (span as { attributes?: unknown }).attributes;
  return typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function stageOf(span: Span): StageFact | undefined {
  const v = attrs(span)?.[ATTR.stage];
  if (typeof v !== 'string' || v.length === 0) return undefined;
  return KNOWN_STAGES.has(v) ? (v as Stage) : UNKNOWN_STAGE;
}

/** The entity, when both type and key are present; a version alone identifies nothing. */
export function entityOf(span: Span): FindingEntity | undefined {
  const a = attrs(span);
  if (a === undefined) return undefined;
  const type = text(a[ATTR.entityType]);
  const key = text(a[ATTR.entityKey]);
  if (type === undefined || key === undefined) return undefined;
  const version = text(a[ATTR.entityVersion]);
  return version === undefined ? { type, key } : { type, key, version };
}

export function targetOf(span: Span): string | undefined {
  const v = attrs(span)?.[ATTR.target];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** `http:shop-query` → service; `mq:x` → queue; anything else (stores, no scheme) → store. */
export function targetKind(target: string | undefined): TargetKind {
  if (target === undefined) return 'store';
  const colon = target.indexOf(':');
  if (colon <= 0) return 'store';
  const scheme = target.slice(0, colon).toLowerCase();
  if (SERVICE_SCHEMES.has(scheme)) return 'service';
  if (QUEUE_SCHEMES.has(scheme)) return 'queue';
  return 'store';
}

/** The part after the scheme (`mq:shop-changed` → `shop-changed`). */
export function targetName(target: string): string {
  const colon = target.indexOf(':');
  return colon < 0 ? target : target.slice(colon + 1);
}

/** `shop 42 v7`, `shop 42`, or `a record` when the span names no entity. */
export function entityPhrase(entity: FindingEntity | undefined): string {
  if (entity === undefined) return 'a record';
  if (entity.version === undefined) return `${entity.type} ${entity.key}`;
  // Versions are often bare numbers; one written as `v7` is not prefixed again.
  const v = entity.version.charCodeAt(0) === 118 ? entity.version : `v${entity.version}`;
  return `${entity.type} ${entity.key} ${v}`;
}

/** `850 ms`, `2.5 s`. */
export function durationPhrase(us: number): string {
  const ms = us / 1000;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
