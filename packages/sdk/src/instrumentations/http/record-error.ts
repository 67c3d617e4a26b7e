import { ERROR_TYPE } from './attributes.js';
import type { SpanHandle } from '../../trace/span-handle.js';

/** Marks a span failed by `error`: exception event, error status with its message, `error.type`. */
export function recordError(span: SpanHandle, error: unknown): void {
  span.recordException(error);
  const type = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : typeof error;
  span.setAttribute(ERROR_TYPE, type);
  span.setStatus('error', error instanceof Error ? error.message : String(error));
}
