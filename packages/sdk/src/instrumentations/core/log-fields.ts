import { activeContext } from '../../context/context-manager.js';

/** The fields the log instrumentations add to a record written while a span is active. */
export interface LogTraceFields {
  trace_id: string;
  span_id: string;
  rpcid: string;
}

/**
 * The active span's identity as log fields, or undefined outside a span. Unsampled spans count:
 * their ids are still propagated, so their logs still line up with the other services' logs.
 */
export function activeLogFields(): LogTraceFields | undefined {
  const span = activeContext().span;
  if (span === undefined) return undefined;
  const traceId = span.traceId;
  const spanId = span.spanId;
  if (!traceId || !spanId) return undefined;
  return { trace_id: traceId, span_id: spanId, rpcid: span.rpcid || '0' };
}
