import { safeReport, type ErrorHandler } from '../export/error-reporter.js';
import type { SdkCounters } from './counters.js';

/**
 * Where the SDK catches what a pluggable part (a sampler, a span processor, a propagator, an
 * exporter) threw, so that it never reaches the traced code. Each place is reported once, through
 * the error reporter, then only counted (`counters.guardedErrors`): a sampler that throws on every
 * span must not write a line per span.
 */
export class Guard {
  private readonly reported = new Set<string>();

  constructor(
    private readonly onError: ErrorHandler,
    private readonly counters: SdkCounters,
  ) {}

  /** `where` names the part and the call, e.g. `sampler.shouldSample`. */
  caught(where: string, error: unknown): void {
    this.counters.guardedErrors++;
    if (this.reported.has(where)) return;
    this.reported.add(where);
    safeReport(this.onError, new Error(`${where} threw ${describeThrown(error)}; ignored, tracing goes on (reported once)`));
  }

  /**
   * Calls a part's async method (flush, shutdown) so that neither a synchronous throw nor a rejection
   * (of any value) leaves it: the promise always resolves.
   */
  settle(where: string, call: () => Promise<unknown> | unknown): Promise<void> {
    return settleCall(call, (error) => this.caught(where, error));
  }
}

/**
 * Calls `call` (a part's async method) so that neither a synchronous throw nor a rejection (of any
 * value) leaves it: each goes to `onError` instead, and the promise always resolves. The one home of
 * that try/then/catch (Guard.settle, MultiSpanProcessor's flush and shutdown).
 */
export function settleCall(call: () => Promise<unknown> | unknown, onError: (error: unknown) => void): Promise<void> {
  try {
    return Promise.resolve(call()).then(
      () => undefined,
      (error: unknown) => onError(error),
    );
  } catch (error) {
    onError(error);
    return Promise.resolve();
  }
}

/** A thrown value as text, whatever it is (an Error, a string, an object whose toString throws). */
export function describeThrown(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return typeof error === 'string' ? JSON.stringify(error) : `a non-Error value (${String(error)})`;
  } catch {
    return 'an unprintable value';
  }
}
