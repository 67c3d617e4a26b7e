/**
 * Instrumentation problems are reported once each on stderr (not through `console`, which the log
 * instrumentation patches). `LINKTRACE_LOG_LEVEL=silent` hides them.
 */
const reported = new Set<string>();

export function warnOnce(scope: string, message: string, error?: unknown): void {
  const key = `${scope}\u0000${message}`;
  if (reported.has(key) || reported.size > 1000) return;
  reported.add(key);
  if (process.env.LINKTRACE_LOG_LEVEL === 'silent') return;
  const detail = error instanceof Error ? `: ${error.message}` : error === undefined ? '' : `: ${String(error)}`;
  try {
    process.stderr.write(`linktrace: instrumentation ${scope}: ${message}${detail}\n`);
  } catch {
    // stderr closed: nothing to do.
  }
}

/** For tests: forget what was reported. */
export function resetWarnings(): void {
  reported.clear();
}
