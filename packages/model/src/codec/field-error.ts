import type { RejectReason } from './decode-result.js';

/**
 * Thrown inside a decoder when one span (or the resource/scope it belongs to) has a bad field; caught
 * at span level, where it becomes a rejected span. Never escapes a decoder.
 */
export class FieldError extends Error {
  constructor(
    message: string,
    readonly reason: RejectReason = 'invalid_span',
  ) {
    super(message);
    this.name = 'FieldError';
  }
}

/** For values whose shape is wrong: `fail('kind', 'not an integer')`; `reason` for a limit exceeded. */
export function fail(field: string, problem: string, reason?: RejectReason): never {
  throw new FieldError(`${field}: ${problem}`, reason);
}
