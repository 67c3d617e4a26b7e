/** The error of a step that did not settle in time. */
export class SyncTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'SyncTimeoutError';
  }
}

/**
 * The AbortSignal a fetch or write is given: made only when the user's code reads it (an
 * AbortController per step costs more than the rest of a run), aborted on a timeout or a lost lease.
 */
export class StepAbort {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** `work`'s result, or a SyncTimeoutError after `ms` (`step` is aborted then). The timer is cleared once settled. */
export function withTimeout<T>(work: () => Promise<T> | T, ms: number, what: string, step: StepAbort): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new SyncTimeoutError(what, ms);
      step.abort(error);
      reject(error);
    }, ms);
    let result: Promise<T> | T;
    try {
      result = work();
    } catch (error) {
      clearTimeout(timer);
      reject(error as Error);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
