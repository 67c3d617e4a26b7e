import { Context } from './context.js';
import { activeContext, runWithContext } from './context-manager.js';

/**
 * Work done in a suppressed context is not traced by any instrumentation: the SDK's own exporter
 * requests run in one, so sending spans never creates spans (which would be sent, and so on).
 * Instrumentations check `isTracingSuppressed()` before starting a span.
 */
const SUPPRESS = Symbol('linktrace.suppressTracing');

export function suppressTracing(ctx: Context = activeContext()): Context {
  return ctx.withValue(SUPPRESS, true);
}

export function isTracingSuppressed(ctx: Context = activeContext()): boolean {
  return ctx.getValue(SUPPRESS) === true;
}

/**
 * Runs `fn` in `ctx` (default: the active context, keeping its span) with tracing suppressed. An
 * instrumentation calls a traced library method this way, so that what the library does inside it
 * (a request's own publish, an ack's respond, JetStream's API requests) is not traced a second time.
 */
export function runSuppressed<R>(fn: () => R, ctx: Context = activeContext()): R {
  return runWithContext(suppressTracing(ctx), fn);
}

/** The root context, suppressed: for the exporter, whose requests belong to no trace. */
export const SUPPRESSED_ROOT: Context = suppressTracing(Context.ROOT);
