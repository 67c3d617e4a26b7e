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

/**
 * `Reflect.apply(fn, self, args)` with `ctx` active — `runWithContext` without its closure and
 * argument array, for wrappers that run on every event of a stream (an HTTP body's 'data'). When
 * `ctx` is active already it is a plain call. Entering and restoring around a synchronous call is
 * what `AsyncLocalStorage.run` itself does; the previous store is put back even when `fn` throws.
 */
export function applyInContext<R>(ctx: Context, fn: (...args: never[]) => R, self: unknown, args: ArrayLike<unknown>): R {
  const previous = storage.getStore();
  if (previous === ctx) return Reflect.apply(fn, self, args) as R;
  storage.enterWith(ctx);
  try {
    return Reflect.apply(fn, self, args) as R;
  } finally {
    storage.enterWith(previous as Context);
  }
}

const EMITS_IN = Symbol('linktrace.emitsIn');
type EmitterLike = { emit: (...args: never[]) => unknown };

/**
 * Makes `emitter` emit every event from now on in `ctx`, whichever async context feeds it: for an
 * object a library returns to one caller but drives from a shared connection's socket (a query's
 * 'row'/'end', a result stream's 'data'). One wrapper per emitter, nothing per event or listener;
 * listeners stay the caller's own functions. The first binding stays: a library that hands the
 * object on internally does not move it to another context.
 */
export function emitInContext<E extends EmitterLike>(emitter: E, ctx: Context): E {
  const target = emitter as E & { [EMITS_IN]?: Context };
  if (target[EMITS_IN] !== undefined || typeof target.emit !== 'function') return emitter;
  const original = target.emit;
  Object.defineProperty(target, EMITS_IN, { value: ctx, configurable: true });
  Object.defineProperty(target, 'emit', {
    value: function emit(this: unknown) {
      // eslint-disable-next-line prefer-rest-params -- no array per event
      return applyInContext(ctx, original, this, arguments);
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return emitter;
}

/** Returns `fn` bound to `ctx` (default: the context active now), whenever and wherever it is called. */
export function bindContext<F extends (...args: never[]) => unknown>(fn: F, ctx: Context = activeContext()): F {
  if (typeof fn !== 'function') return fn;
  if (!(ctx instanceof Context)) ctx = fallback;
  const bound = function (this: unknown): ReturnType<F> {
    // eslint-disable-next-line prefer-rest-params -- no array per call
    return applyInContext(ctx, fn, this, arguments) as ReturnType<F>;
  };
  return bound as unknown as F;
}

const BOUND = Symbol('linktrace.boundEmitter');
type Listener = ((...args: unknown[]) => unknown) & { listener?: Listener };
type PatchedEmitter = EventEmitter & { [BOUND]?: true };

/**
 * Makes every listener added to `emitter` from now on run in the context that was active when the
 * listener was added (or `ctx` when given). The function registered carries the original as
 * `listener`, the way Node marks its own `once` wrappers, so `removeListener`/`off` with the original
 * function and `listeners()` work unchanged — also for a function added to several events.
 */
export function bindEmitter<E extends EventEmitter>(emitter: E, ctx?: Context): E {
  const target = emitter as PatchedEmitter;
  if (target === null || typeof target !== 'object' || typeof target.on !== 'function' || target[BOUND] === true) return emitter;
  target[BOUND] = true;
  const bind = (listener: Listener): Listener => (ctx ? bindContext(listener, ctx) : AsyncResource.bind(listener)) as Listener;
  const on = target.on.bind(target);
  const addListener = target.addListener.bind(target);
  const prependListener = target.prependListener.bind(target);
  const removeListener = target.removeListener.bind(target);
  const bound = (listener: Listener): Listener => {
    if (typeof listener !== 'function') return listener;
    const fn = bind(listener);
    fn.listener = listener;
    return fn;
  };
  // `once` is rebuilt on `on`: Node's own once wrapper would hide the original one level too deep.
  const boundOnce = (event: string | symbol, listener: Listener): Listener => {
    if (typeof listener !== 'function') return listener;
    const fn = bind(listener);
    let fired = false;
    const once = function (this: unknown): unknown {
      if (fired) return undefined;
      fired = true;
      removeListener(event, once);
      // eslint-disable-next-line prefer-rest-params -- no array per call
      return Reflect.apply(fn, this, arguments);
    } as Listener;
    once.listener = listener;
    return once;
  };
  target.on = ((event: string | symbol, listener: Listener) => on(event, bound(listener))) as E['on'];
  target.addListener = ((event: string | symbol, listener: Listener) => addListener(event, bound(listener))) as E['addListener'];
  target.prependListener = ((event: string | symbol, listener: Listener) => prependListener(event, bound(listener))) as E['prependListener'];
  target.once = ((event: string | symbol, listener: Listener) => on(event, boundOnce(event, listener))) as E['once'];
  target.prependOnceListener = ((event: string | symbol, listener: Listener) => prependListener(event, boundOnce(event, listener))) as E['prependOnceListener'];
  return emitter;
}
