import type { Context } from '../context/context.js';
import { runWithContext } from '../context/context-manager.js';
import type { SpanHandle } from '../trace/span-handle.js';
import { failSpan } from '../trace/tracer.js';

/**
 * Runs `fn` with `span` active in `ctx` and ends the span when `fn` returns or its promise settles.
 * A throw or rejection is a stage error (exception event, error status) and propagates unchanged.
 */
export function runInSpan<R>(ctx: Context, span: SpanHandle, fn: (span: SpanHandle) => R): R {
  return runWithContext(ctx.withSpan(span), callAndEnd<R>, span, fn);
}

function callAndEnd<R>(span: SpanHandle, fn: (span: SpanHandle) => R): R {
  let result: R;
  try {
    result = fn(span);
  } catch (error) {
    failSpan(span, error);
    span.end();
    throw error;
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
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
