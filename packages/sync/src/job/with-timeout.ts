/** The error of a step that did not settle in time. */
export class SyncTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'SyncTimeoutError';
  }
}

/**
 * `work`'s result, or a SyncTimeoutError after `ms` (the controller is aborted then, so a client
 * that takes the signal stops too). The timer is cleared once settled.
 */
export async function withTimeout<T>(work: () => Promise<T> | T, ms: number, what: string, controller: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new SyncTimeoutError(what, ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(work), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
