import { Context } from '../context/context.js';
import { RemoteSpan } from '../trace/non-recording-span.js';
import type { Propagator, TextMapGetter } from '../types.js';

/** The carrier could not be read (its getter threw, or it is not something the getter knows). */
export const UNREADABLE = false;

/**
 * The upstream context in `carrier` as a Context holding its remote span and baggage; undefined
 * when the carrier holds none (an untraced producer), UNREADABLE when reading it threw.
 */
export function extractContext<C>(propagator: Propagator, carrier: C, getter: TextMapGetter<C>): Context | undefined | typeof UNREADABLE {
  let found;
  try {
    found = propagator.extract({}, carrier, getter);
  } catch {
    return UNREADABLE;
  }
  let ctx: Context | undefined;
  if (found.spanContext !== undefined) {
    ctx = Context.ROOT.withSpan(new RemoteSpan({ ...found.spanContext, isRemote: true }));
  } else if (found.rootTraceId !== undefined) {
    ctx = Context.ROOT.withSpan(new RemoteSpan({ traceId: found.rootTraceId, spanId: '', traceFlags: 0, isRemote: true }));
  }
  if (found.baggage !== undefined) ctx = (ctx ?? Context.ROOT).withBaggage(found.baggage);
  return ctx;
}
