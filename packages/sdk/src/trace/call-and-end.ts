import type { SpanHandle } from './span-handle.js';

/**
 * Calls `fn(span)` and ends the span when `fn` returns or its promise settles. A throw or a rejection
 * records the exception and marks the span as an error, then propagates unchanged.
 */
export function callAndEnd<R>(span: SpanHandle, fn: (span: SpanHandle) => R): R {
  let result: R;
  try {
    result = fn(span);
  } catch (error) {
    failSpan(span, error);
    span.end();
    throw error;
  }
  if (isThenable(result)) {
    return (result as unknown as PromiseLike<unknown>).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failSpan(span, error);
        span.end();
        throw error;
      },
    ) as R;
  }
  span.end();
  return result;
}

export function failSpan(span: SpanHandle, error: unknown): void {
  span.recordException(error);
  span.setStatus('error', error instanceof Error ? error.message : String(error));
}

/** A promise-like result; a hostile object whose `then` getter throws is treated as a plain value. */
function isThenable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}
