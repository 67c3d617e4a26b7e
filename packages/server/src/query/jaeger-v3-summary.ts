/**
 * One trace -> a Jaeger api_v3 `TraceSummary`, what Jaeger UI's search page lists (since the UI moved
 * its search to `/api/v3/trace-summaries`): times as decimal ns strings (proto3 JSON for int64), the
 * trace id as 32 hex (the UI's schema insists; a Zipkin 64-bit id gets its sixteen leading zeros,
 * under which `/api/traces/{id}` finds it too).
 */
import type { Span } from '@linktrace/model';

/** Counts of 0 are left out, as proto3 JSON writes them (the UI reads an absent count as 0). */
export interface JaegerV3ServiceSummary {
  name: string;
  spanCount: number;
  errorSpanCount?: number;
}

export interface JaegerV3TraceSummary {
  traceId: string;
  rootServiceName?: string;
  rootOperationName?: string;
  minStartTimeUnixNano: string;
  maxEndTimeUnixNano: string;
  spanCount: number;
  errorSpanCount?: number;
  /** Spans whose parent is not in the trace (a lost hop, or a parent not reported yet). */
  orphanSpanCount?: number;
  services: JaegerV3ServiceSummary[];
}

function nanos(us: number): string {
  return (BigInt(Math.round(us)) * 1000n).toString();
}

/** `spans` as the store returns them (by start time), not empty. */
export function jaegerV3Summary(spans: readonly Span[]): JaegerV3TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  const services = new Map<string, JaegerV3ServiceSummary>();
  let minStart = Infinity;
  let maxEnd = -Infinity;
  let errors = 0;
  let orphans = 0;
  let root: Span | undefined;
  for (const s of spans) {
    minStart = Math.min(minStart, s.startUs);
    maxEnd = Math.max(maxEnd, s.startUs + (s.durationUs ?? 0));
    const isError = s.status.code === 'error';
    if (isError) errors++;
    if (s.parentSpanId === undefined) root ??= s;
    else if (!ids.has(s.parentSpanId)) orphans++;
    let svc = services.get(s.service);
    if (svc === undefined) services.set(s.service, (svc = { name: s.service, spanCount: 0 }));
    svc.spanCount++;
    if (isError) svc.errorSpanCount = (svc.errorSpanCount ?? 0) + 1;
  }
  const traceId = spans[0]!.traceId;
  const out: JaegerV3TraceSummary = {
    traceId: traceId.length === 16 ? `0000000000000000${traceId}` : traceId,
    minStartTimeUnixNano: nanos(minStart),
    maxEndTimeUnixNano: nanos(maxEnd),
    spanCount: spans.length,
    services: [...services.values()],
  };
  if (errors > 0) out.errorSpanCount = errors;
  if (orphans > 0) out.orphanSpanCount = orphans;
  if (root !== undefined) {
    out.rootServiceName = root.service;
    out.rootOperationName = root.name;
  }
  return out;
}
