/**
 * `data-mismatch`: the SDK's reconciler (packages/sdk/src/reconcile/) read a written record at its
 * source and at its target some seconds after the write and recorded a `reconcile` span saying the two
 * differ, or that the target lacks the record. Only versions and hashes are in the span.
 */
import type { Span } from '@linktrace/model';
import type { Finding } from './finding.js';
import { durationPhrase, entityOf, entityPhrase, targetOf } from './span-facts.js';
import type { TraceFacts } from './trace-facts.js';

// Spelled as in the SDK's RECONCILE_ATTR (analysis depends on the model only).
const RESULT = 'linktrace.reconcile.result';
const SOURCE_VERSION = 'linktrace.reconcile.source.version';
const TARGET_VERSION = 'linktrace.reconcile.target.version';
const SOURCE_HASH = 'linktrace.reconcile.source.hash';
const TARGET_HASH = 'linktrace.reconcile.target.hash';
const DELAY_MS = 'linktrace.reconcile.delay_ms';
const HASH_SHOWN = 8;

function text(attributes: Record<string, unknown>, key: string): string | undefined {
  const v = attributes[key];
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** `v7, hash ab12cd34…` — what one side held, as far as the span says. */
function statePhrase(version: string | undefined, hash: string | undefined): string {
  const parts: string[] = [];
  if (version !== undefined) parts.push(version.charCodeAt(0) === 118 ? version : `v${version}`);
  if (hash !== undefined) parts.push(`hash ${hash.length > HASH_SHOWN ? hash.slice(0, HASH_SHOWN) + '…' : hash}`);
  return parts.length === 0 ? 'nothing recorded' : parts.join(', ');
}

/**
 * One finding per reconcile span whose result is `mismatch` or `missing`, anchored on the write it
 * checked (its parent) when that is in the trace. A write that failed is left to `stage-error`.
 */
export function dataMismatches(facts: TraceFacts): Finding[] {
  const { spans, parent } = facts.graph;
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const a = (s as { attributes?: unknown }).attributes;
    if (typeof a !== 'object' || a === null) continue;
    const attributes = a as Record<string, unknown>;
    const result = attributes[RESULT];
    if (result !== 'mismatch' && result !== 'missing') continue;
    const target = targetOf(s);
    const entity = entityOf(s);
    const p = parent[i]!;
    const write: Span | undefined = p >= 0 && facts.stage[p] === 'write' ? spans[p] : undefined;
    if (write !== undefined && write.status?.code === 'error') continue;
    const anchor = write ?? s;
    // The same write checked twice (two reconcilers, a retried check) is still one broken hop.
    const key = anchor.spanId + '\u0000' + (target ?? '');
    if (seen.has(key)) continue;
    seen.add(key);
    const service = typeof anchor.service === 'string' ? anchor.service : '';
    const where = target ?? 'its target';
    const delayMs = attributes[DELAY_MS];
    const later = typeof delayMs === 'number' && Number.isFinite(delayMs) && delayMs >= 0 ? `${durationPhrase(delayMs * 1000)} later ` : '';
    const source = statePhrase(text(attributes, SOURCE_VERSION), text(attributes, SOURCE_HASH));
    const message =
      result === 'missing'
        ? `${service} wrote ${entityPhrase(entity)} to ${where}; ${later}${where} has no such record (source ${source})`
        : `${service} wrote ${entityPhrase(entity)} to ${where}; ${later}${where} differs from the source (source ${source}; target ${statePhrase(text(attributes, TARGET_VERSION), text(attributes, TARGET_HASH))})`;
    const f: Finding = {
      traceId: typeof anchor.traceId === 'string' ? anchor.traceId : '',
      rule: 'data-mismatch',
      service,
      spanId: anchor.spanId,
      message,
      timeUs: Number.isFinite(anchor.startUs) ? anchor.startUs : 0,
    };
    if (entity !== undefined) f.entity = entity;
    if (target !== undefined) f.target = target;
    out.push(f);
  }
  return out;
}
