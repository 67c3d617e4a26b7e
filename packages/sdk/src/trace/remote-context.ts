import type { Context } from '../context/context.js';
import type { Propagated } from '../types.js';
import { RemoteSpan } from './non-recording-span.js';
import { isSpanContext } from './tracer.js';

/**
 * `base` with what a propagator extracted: the remote parent (or the trace to join) and the baggage.
 * A propagator is a pluggable part: what it returns is checked, and a span context that is not one
 * (wrong types, wrong id lengths) is left out rather than carried into every span that follows.
 */
export function contextFromPropagated(found: Propagated | null | undefined, base: Context): Context {
  if (found === null || typeof found !== 'object') return base;
  let result = base;
  const { spanContext, rootTraceId, baggage } = found;
  if (spanContext !== undefined && isSpanContext(spanContext)) {
    result = result.withSpan(new RemoteSpan({ ...spanContext, isRemote: true }));
  } else if (typeof rootTraceId === 'string' && rootTraceId !== '') {
    result = result.withSpan(new RemoteSpan({ traceId: rootTraceId, spanId: '', traceFlags: 0, isRemote: true }));
  }
  if (baggage instanceof Map) result = result.withBaggage(baggage);
  return result;
}
