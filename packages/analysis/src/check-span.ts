/**
 * The part of a span the chain checks and flow contracts read, kept while a trace waits for its
 * check. A decoded span carries every attribute, its events, resource and scope (~1 KB); the checks
 * read ids, rpcid, service, name, kind, times, status, links and a handful of `linktrace.*`
 * attributes. A compact span is still a `Span` (empty events, only those attributes), so
 * `checkTrace` and `evaluateFlow` take it unchanged and judge it exactly as the whole span.
 */
import { ATTR } from '@linktrace/model';
import type { AttributeValue, Attributes, Span, SpanLink, SpanStatus } from '@linktrace/model';

/** Attributes a rule reads: the chain attributes (DESIGN §3) and the reconcile result (data-mismatch). */
export const CHECKED_ATTRIBUTES: readonly string[] = [
  ATTR.rpcid,
  ATTR.stage,
  ATTR.entityType,
  ATTR.entityKey,
  ATTR.entityVersion,
  ATTR.target,
  'linktrace.reconcile.result',
  'linktrace.reconcile.source.version',
  'linktrace.reconcile.target.version',
  'linktrace.reconcile.source.hash',
  'linktrace.reconcile.target.hash',
  'linktrace.reconcile.delay_ms',
];

const NO_EVENTS: never[] = Object.freeze([]) as unknown as never[];
const NO_LINKS: SpanLink[] = Object.freeze([]) as unknown as SpanLink[];
const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;
const STATUS: Readonly<Record<string, SpanStatus>> = {
  unset: Object.freeze({ code: 'unset' }),
  ok: Object.freeze({ code: 'ok' }),
  error: Object.freeze({ code: 'error' }),
};

/**
 * Repeated names (services, span names, stages, targets, entity types) kept once. Bounded: past
 * `max` distinct values, new ones are kept as they come.
 */
export class StringPool {
  private readonly values = new Map<string, string>();
  constructor(private readonly max = 20_000) {}

  get(value: string): string {
    const v = this.values.get(value);
    if (v !== undefined) return v;
    if (this.values.size < this.max) this.values.set(value, value);
    return value;
  }
}

function pooled(pool: StringPool | undefined, v: unknown): unknown {
  return typeof v === 'string' && pool !== undefined ? pool.get(v) : v;
}

/** Only stage spans, reconcile spans and spans positioned by attribute carry attributes a rule reads. */
function checkedAttributes(a: Attributes | undefined, pool: StringPool | undefined): Attributes {
  if (typeof a !== 'object' || a === null) return NO_ATTRIBUTES;
  if (a[ATTR.stage] === undefined && a['linktrace.reconcile.result'] === undefined && a[ATTR.rpcid] === undefined) return NO_ATTRIBUTES;
  const out: Record<string, unknown> = {};
  for (let k = 0; k < CHECKED_ATTRIBUTES.length; k++) {
    const key = CHECKED_ATTRIBUTES[k]!;
    const v = a[key];
    // Keys and versions are mostly unique: pooling them would only grow the pool.
    if (v !== undefined) out[key] = key === ATTR.entityKey || key === ATTR.entityVersion ? v : pooled(pool, v);
  }
  return out as Record<string, AttributeValue>;
}

function checkedLinks(links: unknown): SpanLink[] {
  if (!Array.isArray(links) || links.length === 0) return NO_LINKS;
  const out: SpanLink[] = [];
  for (const l of links as unknown[]) {
    if (typeof l !== 'object' || l === null) continue;
    const { traceId, spanId } = l as { traceId?: unknown; spanId?: unknown };
    if (typeof spanId === 'string') out.push({ traceId: traceId as string, spanId });
  }
  return out.length === 0 ? NO_LINKS : out;
}

function checkedStatus(status: unknown): SpanStatus {
  if (typeof status !== 'object' || status === null) return STATUS.unset!;
  const { code, message } = status as { code?: unknown; message?: unknown };
  // Only a failed stage's message reaches a finding.
  if (code === 'error' && typeof message === 'string' && message.length > 0) return { code, message };
  return STATUS[code as string] ?? (status as SpanStatus);
}

/**
 * A compact copy of `span` (see the file comment). `traceId` replaces the span's own (one string per
 * trace instead of one per span); `pool` keeps repeated names once. Records that are
 * not objects are returned as they are (the checks skip them).
 */
export function compactSpan(span: Span, traceId: string = span.traceId, pool?: StringPool): Span {
  if (typeof span !== 'object' || span === null) return span;
  // One object shape for every compact span (absent fields are undefined, not missing), so the
  // checks' property reads stay monomorphic.
  const c = {
    traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    // The checks validate it (and fall back to the `linktrace.rpcid` attribute, kept below). Not
    // pooled: positions are many and long, so hashing them costs more than it saves.
    rpcid: span.rpcid,
    service: pooled(pool, span.service) as string,
    name: pooled(pool, span.name) as string,
    kind: span.kind,
    startUs: span.startUs,
    durationUs: span.durationUs,
    status: checkedStatus(span.status),
    attributes: checkedAttributes(span.attributes, pool),
    events: NO_EVENTS,
    links: checkedLinks(span.links),
    shared: span.shared === true ? true : undefined,
    // A Zipkin span of unknown start or length: the time rules must know (check-trace.ts).
    startUnknown: span.startUnknown === true ? true : undefined,
    durationUnknown: span.durationUnknown === true ? true : undefined,
  };
  return c as unknown as Span;
}
