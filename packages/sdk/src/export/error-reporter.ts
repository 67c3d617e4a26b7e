/** Where the export pipeline reports what went wrong: it never throws into the traced program. */
export type ErrorHandler = (error: Error) => void;

/**
 * The default handler: one `console.warn` line, then silence for `intervalMs` apart from a count, so a
 * collector that is down for an hour does not flood the service's own logs.
 */
export function rateLimitedWarn(intervalMs = 60_000, write: (line: string) => void = console.warn): ErrorHandler {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (error) => {
    if (error instanceof LossSummary) {
      // The last word of a process on the spans it lost is never swallowed by the rate limit.
      write(`[linktrace] ${error.message}`);
      return;
    }
    const now = Date.now();
    if (now - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} similar messages suppressed)` : '';
    lastAt = now;
    suppressed = 0;
    write(`[linktrace] ${error.message}${more}`);
  };
}

/** One `console.warn` line per error: for reports that are already rare (each guarded place once). */
export const warnEach: ErrorHandler = (error) => console.warn(`[linktrace] ${error.message}`);

/**
 * The exit summary of lost spans (see exit-flush.ts). A class of its own so that a handler can tell
 * it from the running reports: `rateLimitedWarn` always prints it.
 */
export class LossSummary extends Error {
  override readonly name = 'LossSummary';
}

/** Calls a user-supplied handler without letting it throw into the pipeline. */
export function safeReport(handler: ErrorHandler, error: Error): void {
  try {
    handler(error);
  } catch {
    // A broken error handler must not break exporting; there is nowhere left to report to.
  }
}
