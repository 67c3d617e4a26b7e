import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { Context } from './context.js';

/**
 * AsyncLocalStorage carries the active context through await, promise chains, timers, nextTick and
 * any callback scheduled while it is active. Listeners of an EventEmitter run in the context of
 * whoever emits, so `bindEmitter` exists for emitters that are fed from elsewhere (sockets, pools).
 */
const storage = new AsyncLocalStorage<Context>();

let fallback: Context = Context.ROOT;

export function activeContext(): Context {
  return storage.getStore() ?? fallback;
}

/**
 * The context active where nothing else is: `Context.ROOT`, unless a launcher handed this process
 * a parent (`linktrace run` passes one in `TRACEPARENT`), so the process's root spans join it.
 */
export function setDefaultContext(ctx: Context): void {
  fallback = ctx instanceof Context ? ctx : Context.ROOT;
}

export function defaultContext(): Context {
  return fallback;
}

/**
 * The store behind the active context, for instrumentations that bind it to a library's
 * diagnostics channel (`tracingChannel.asyncStart.bindStore`). Not part of the public API.
 */
export function contextStorage(): AsyncLocalStorage<Context> {
  return storage;
}

/** Runs `fn` with `ctx` active; the previous context is restored when it returns. */
export function runWithContext<A extends unknown[], R>(ctx: Context, fn: (...args: A) => R, ...args: A): R {
  // Something that is not a Context would break every span started inside: run in the default one.
  return storage.run(ctx instanceof Context ? ctx : fallback, fn, ...args);
}

/** Returns `fn` bound to `ctx` (default: the context active now), whenever and wherever it is called. */
export function bindContext<F extends (...args: never[]) => unknown>(fn: F, ctx: Context = activeContext()): F {
  if (typeof fn !== 'function') return fn;
  if (!(ctx instanceof Context)) ctx = fallback;
  const bound = function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    return storage.run(ctx, () => fn.apply(this, args) as ReturnType<F>);
  };
  return bound as unknown as F;
}

const BOUND_LISTENERS = Symbol('linktrace.boundListeners');
type ListenerMap = WeakMap<(...args: unknown[]) => unknown, (...args: unknown[]) => unknown>;
type PatchedEmitter = EventEmitter & { [BOUND_LISTENERS]?: ListenerMap };

/**
 * Makes every listener added to `emitter` from now on run in the context that was active when the
 * listener was added (or `ctx` when given). removeListener/off keep working with the original function.
 */
export function bindEmitter<E extends EventEmitter>(emitter: E, ctx?: Context): E {
  const target = emitter as PatchedEmitter;
  if (target === null || typeof target !== 'object' || typeof target.on !== 'function' || target[BOUND_LISTENERS]) return emitter;
  const map: ListenerMap = new WeakMap();
  target[BOUND_LISTENERS] = map;
  const wrap = (listener: (...args: unknown[]) => unknown) => {
    const bound = ctx ? bindContext(listener, ctx) : AsyncResource.bind(listener);
    map.set(listener, bound);
    return bound;
  };
  for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const) {
    const original = target[method].bind(target);
    target[method] = ((event: string | symbol, listener: (...args: unknown[]) => unknown) =>
      original(event, wrap(listener))) as E[typeof method];
  }
  for (const method of ['off', 'removeListener'] as const) {
    const original = target[method].bind(target);
    target[method] = ((event: string | symbol, listener: (...args: unknown[]) => unknown) =>
      original(event, map.get(listener) ?? listener)) as E[typeof method];
  }
  return emitter;
}
