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

/** Calls a user-supplied handler without letting it throw into the pipeline. */
export function safeReport(handler: ErrorHandler, error: Error): void {
  try {
    handler(error);
  } catch {
    // A broken error handler must not break exporting; there is nowhere left to report to.
  }
}
