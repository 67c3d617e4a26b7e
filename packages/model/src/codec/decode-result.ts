import type { Span } from '../span.js';

/** What every decoder returns: the spans it accepted, and how many it rejected and why. */
export interface DecodeResult {
  spans: Span[];
  /** Spans present in the payload but rejected (invalid ids, missing fields, wrong types). */
  rejected: number;
  /** At most MAX_DECODE_ERRORS human-readable messages naming the bad span and field. */
  errors: string[];
}

/** Enough to diagnose a client bug without letting one bad payload produce megabytes of text. */
export const MAX_DECODE_ERRORS = 20;

export function newDecodeResult(): DecodeResult {
  return { spans: [], rejected: 0, errors: [] };
}

/** Counts one rejected span and keeps its message while there is room. */
export function rejectSpan(result: DecodeResult, message: string): void {
  result.rejected++;
  if (result.errors.length < MAX_DECODE_ERRORS) result.errors.push(message);
}
