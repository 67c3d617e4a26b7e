/**
 * Thrown inside a decoder when one span (or the resource/scope it belongs to) has a bad field; caught
 * at span level, where it becomes a rejected span. Never escapes a decoder.
 */
export class FieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldError';
  }
}

/** For values whose shape is wrong: `fail('kind', 'not an integer')`. */
export function fail(field: string, problem: string): never {
  throw new FieldError(`${field}: ${problem}`);
}
