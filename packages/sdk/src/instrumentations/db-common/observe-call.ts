import type { Context } from '../../context/context.js';
import { runWithContext } from '../../context/context-manager.js';

type Callback = (this: unknown, ...args: unknown[]) => unknown;
type Settled = (error: unknown, result: unknown) => void;

/**
 * Calls `original` and reports its outcome once to `settled`, whatever the call form: a callback
 * at `args[callbackIndex]` (replaced by one that reports, then calls the user's in `callerContext`
 * with the very same arguments), a returned promise (the promise derived from it is returned,
 * settling with the same value or error one tick later, so an unhandled rejection stays unhandled),
 * or a synchronous throw (reported, then rethrown as it is).
 * Returns false as `observed` when none of these applies, so the caller can end its span another way.
 */
export function observeCall(
  original: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  callbackIndex: number,
  callerContext: Context,
  settled: Settled,
): { result: unknown; observed: boolean } {
  let done = false;
  const once: Settled = (error, result) => {
    if (done) return;
    done = true;
    try {
      settled(error, result);
    } catch {
      // Recording must never change what the application sees.
    }
  };
  const userCallback = callbackIndex >= 0 ? (args[callbackIndex] as Callback) : undefined;
  if (typeof userCallback === 'function') {
    args[callbackIndex] = function linktraceCallback(this: unknown, ...callbackArgs: unknown[]): unknown {
      once(callbackArgs[0], callbackArgs[1]);
      return runWithContext(callerContext, () => userCallback.apply(this, callbackArgs));
    };
  }
  let result: unknown;
  try {
    result = original.apply(thisArg, args);
  } catch (error) {
    once(error, undefined);
    throw error;
  }
  if (typeof userCallback === 'function') return { result, observed: true };
  if (isThenable(result)) {
    // The promise derived from the library's is handed back, not the library's own: a handler on the
    // original would mark it handled, and a rejection the application never handles would no longer
    // raise `unhandledRejection`. The derived one settles with the very same value or error.
    const derived = result.then(
      (value) => {
        once(null, value);
        return value;
      },
      (error: unknown) => {
        once(error ?? new Error('rejected'), undefined);
        throw error;
      },
    );
    return { result: derived, observed: true };
  }
  return { result, observed: false };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
