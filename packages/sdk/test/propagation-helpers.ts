/** Shared by the propagation tests: header-object carriers through the SDK's own getter and setter. */
import { headerGetter, headerSetter, type HeaderRecord } from '../src/propagation/carriers.js';
import type { Propagated, Propagator } from '../src/types.js';

export const TRACE_ID = '12345678901234567890123456789012';
export const SPAN_ID = '1234567890123456';
export const VALID_TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

export function extractFrom(propagator: Propagator, headers: HeaderRecord, base: Propagated = {}): Propagated {
  return propagator.extract(base, headers, headerGetter);
}

export function injectInto(propagator: Propagator, value: Propagated): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(value, headers, headerSetter);
  return headers;
}
