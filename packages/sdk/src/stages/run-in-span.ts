import type { Context } from '../context/context.js';
import { runWithContext } from '../context/context-manager.js';
import type { SpanHandle } from '../trace/span-handle.js';
import { callAndEnd } from '../trace/call-and-end.js';

/**
 * Runs `fn` with `span` active in `ctx` and ends the span when `fn` returns or its promise settles.
 * A throw or rejection is a stage error (exception event, error status) and propagates unchanged.
 */
export function runInSpan<R>(ctx: Context, span: SpanHandle, fn: (span: SpanHandle) => R): R {
  return runWithContext(ctx.withSpan(span), callAndEnd<R>, span, fn);
}
