import type { Span } from '../span.js';

/**
 * Why a span was rejected, as a bounded set (a metrics label): a limit exceeded, or any other
 * malformed field. The message names the field; the reason only groups.
 */
export type RejectReason = 'invalid_span' | 'too_many_attributes' | 'attribute_too_large';
export const REJECT_REASONS: readonly RejectReason[] = ['invalid_span', 'too_many_attributes', 'attribute_too_large'];

/** What every decoder returns: the spans it accepted, and how many it rejected and why. */
export interface DecodeResult {
  spans: Span[];
  /** Spans present in the payload but rejected (invalid ids, missing fields, wrong types). */
  rejected: number;
  /** At most MAX_DECODE_ERRORS human-readable messages naming the bad span and field. */
  errors: string[];
  /** `rejected` split by reason (the counts add up to `rejected`). */
  rejectedBy: Record<RejectReason, number>;
}

/** Enough to diagnose a client bug without letting one bad payload produce megabytes of text. */
export const MAX_DECODE_ERRORS = 20;

export function newDecodeResult(): DecodeResult {
  return { spans: [], rejected: 0, errors: [], rejectedBy: { invalid_span: 0, too_many_attributes: 0, attribute_too_large: 0 } };
}

/** Counts one rejected span and keeps its message while there is room. */
export function rejectSpan(result: DecodeResult, message: string, reason: RejectReason = 'invalid_span'): void {
  result.rejected++;
  result.rejectedBy[reason]++;
  if (result.errors.length < MAX_DECODE_ERRORS) result.errors.push(message);
}
