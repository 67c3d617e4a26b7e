/**
 * Builds the native trace view from a trace's stored spans: the trace as analysis `assembleTrace`
 * lays it out, with its search summary and findings. Pure: the route and `linktrace trace --data`
 * share it.
 */
import type { Span } from '@linktrace/model';
import { assembleTrace } from '@linktrace/analysis';
import { summarizeTrace, type Finding } from '@linktrace/storage';
import { jsonAttributes } from './json-attributes.js';
import type { SpanJson, TraceView } from './trace-view-types.js';

function hasKeys(o: object | undefined): boolean {
  if (o === undefined) return false;
  for (const _ in o) return true;
  return false;
}

/** The span with JSON-safe attribute values; the same maps when they already are (the usual case). */
export function spanJson(span: Span): SpanJson {
  const out = { ...span } as unknown as SpanJson;
  out.attributes = jsonAttributes(span.attributes);
  if (span.events.length > 0) {
    out.events = span.events.map((e) =>
      hasKeys(e.attributes) ? { timeUs: e.timeUs, name: e.name, attributes: jsonAttributes(e.attributes!) } : { timeUs: e.timeUs, name: e.name },
    );
  }
  if (span.links.length > 0) {
    out.links = span.links.map((l) => {
      const link: SpanJson['links'][number] = { traceId: l.traceId, spanId: l.spanId };
      if (l.traceState !== undefined) link.traceState = l.traceState;
      if (hasKeys(l.attributes)) link.attributes = jsonAttributes(l.attributes!);
      return link;
    });
  }
  if (span.resource !== undefined) out.resource = jsonAttributes(span.resource);
  if (span.scope?.attributes !== undefined) out.scope = { ...span.scope, attributes: jsonAttributes(span.scope.attributes) };
  return out;
}

/**
 * The view of a non-empty trace; `spans` as the store returns them (one record per span, by start),
 * `findings` the trace's stored findings.
 */
export function buildTraceView(traceId: string, spans: readonly Span[], findings: readonly Finding[] = []): TraceView {
  const summary = summarizeTrace(
    traceId,
    spans.map((s) => ({
      spanId: s.spanId,
      kind: s.kind,
      service: s.service,
      name: s.name,
      hasParent: s.parentSpanId !== undefined,
      startUs: s.startUs,
      durationUs: s.durationUs,
      startUnknown: s.startUnknown,
      error: s.status.code === 'error',
    })),
  );
  const trace = assembleTrace(spans);
  const view: TraceView = {
    traceId,
    startUs: summary.startUs,
    durationUs: summary.durationUs,
    spanCount: summary.spanCount,
    errorCount: summary.errorCount,
    services: summary.services,
    spans: trace.spans.map(spanJson),
    parents: trace.parents,
    rows: trace.rows,
    gaps: trace.gaps,
    clockSkew: trace.clockSkew.map((a) => ({ span: a.index, spanId: a.spanId, deltaUs: a.deltaUs, reason: a.reason })),
    criticalPath: trace.criticalPath,
    findingCount: findings.length,
    findings: [...findings],
  };
  if (summary.root !== undefined) view.root = summary.root;
  return view;
}
