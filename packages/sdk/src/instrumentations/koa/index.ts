import type { Instrumentation, ModuleTarget } from '../core/instrumentation.js';
import { isWrapped, originalOf, unwrap, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';
import { noteServerError, routeText, setServerRoute } from '../web-common/server-route.js';

type Middleware = (this: unknown, ctx: unknown, next: unknown) => unknown;
type HandleRequest = (this: unknown, ctx: unknown, fnMiddleware: unknown) => unknown;
type Use = (this: unknown, fn: unknown) => unknown;
type Emit = (this: unknown, event: unknown, ...args: unknown[]) => boolean;
interface ApplicationPrototype {
  handleRequest: HandleRequest;
  use: Use;
  emit: Emit;
}
interface KoaContext {
  req?: unknown;
  /** Set by @koa/router (and koa-router) to the path template of the route that ran. */
  _matchedRoute?: unknown;
}

/**
 * Koa: names the server span `<METHOD> <route template>` from what @koa/router records on the
 * context (`ctx._matchedRoute`, prefixes and nested routers included), and records errors thrown
 * through middleware — also those an error-handling middleware catches and turns into a response —
 * and errors emitted as `app.emit('error', err, ctx)` (Koa's own `ctx.onerror` does that).
 * No listener is added: an app without an 'error' listener keeps Koa's default one.
 */
export function koaInstrumentation(): Instrumentation {
  return { name: 'koa', targets: [koaTarget] };
}

const koaTarget: ModuleTarget = {
  package: 'koa',
  patch(exports, _ctx, loaded) {
    requireMajor('koa', loaded.version, 2, 3);
    const proto = typeof exports === 'function' ? (exports as { prototype?: Partial<ApplicationPrototype> }).prototype : undefined;
    if (proto === undefined || typeof proto.handleRequest !== 'function' || typeof proto.use !== 'function' || typeof proto.emit !== 'function') {
      throw new Error('unexpected export shape: no Application.prototype.handleRequest/use/emit');
    }
    const app = proto as ApplicationPrototype;
    wrap(app, 'handleRequest', (original) =>
      function linktraceHandleRequest(this: unknown, ctx: unknown, fnMiddleware: unknown): unknown {
        if (typeof fnMiddleware !== 'function' || !isContext(ctx)) return original.call(this, ctx, fnMiddleware);
        return original.call(this, ctx, settleWithRoute(fnMiddleware as Middleware));
      },
    );
    wrap(app, 'use', (original) =>
      function linktraceUse(this: unknown, fn: unknown): unknown {
        // Generator middleware (Koa 2 converts it itself) and non-functions go through unchanged.
        const plain = typeof fn === 'function' && (fn as { constructor?: { name?: unknown } }).constructor?.name !== 'GeneratorFunction';
        return original.call(this, plain ? noteErrorsOf(fn as Middleware) : fn);
      },
    );
    // `emit` is inherited from EventEmitter; the wrapper is an own property removed by unpatch.
    wrap(app, 'emit', (original) =>
      function linktraceEmit(this: unknown, event: unknown, ...args: unknown[]): boolean {
        if (event === 'error' && isContext(args[1])) safely(() => noteServerError((args[1] as KoaContext).req, args[0]));
        return original.call(this, event, ...args);
      },
    );
  },
  unpatch(exports) {
    const proto = typeof exports === 'function' ? (exports as { prototype?: ApplicationPrototype }).prototype : undefined;
    if (proto === undefined) return;
    unwrap(proto, 'handleRequest');
    unwrap(proto, 'use');
    if (isWrapped(proto.emit)) {
      const original = originalOf(proto.emit);
      const inherited = (Object.getPrototypeOf(proto) as Partial<ApplicationPrototype> | null)?.emit;
      if (inherited === original) delete (proto as Partial<ApplicationPrototype>).emit;
      else unwrap(proto, 'emit');
    }
  },
};

function isContext(value: unknown): value is KoaContext {
  return value !== null && typeof value === 'object';
}

/** The composed middleware, naming the span once the chain has run (the route is known then). */
function settleWithRoute(fnMiddleware: Middleware): Middleware {
  return function linktraceMiddlewareChain(this: unknown, ctx: unknown, next: unknown): unknown {
    const result = fnMiddleware.call(this, ctx, next);
    if (!isThenable(result)) {
      nameRoute(ctx as KoaContext);
      return result;
    }
    return result.then(
      (value) => {
        nameRoute(ctx as KoaContext);
        return value;
      },
      (error: unknown) => {
        nameRoute(ctx as KoaContext);
        safely(() => noteServerError((ctx as KoaContext).req, error));
        throw error;
      },
    );
  };
}

/** One middleware, recording what it throws or rejects with before passing it on unchanged. */
function noteErrorsOf(fn: Middleware): Middleware {
  const wrapped = function linktraceKoaMiddleware(this: unknown, ctx: unknown, next: unknown): unknown {
    let result: unknown;
    try {
      result = fn.call(this, ctx, next);
    } catch (error) {
      safely(() => noteServerError((ctx as KoaContext | null)?.req, error));
      throw error;
    }
    if (!isThenable(result)) return result;
    return result.then(undefined, (error: unknown) => {
      safely(() => noteServerError((ctx as KoaContext | null)?.req, error));
      throw error;
    });
  };
  // Koa's debug output names middleware by `_name` or `name`.
  safely(() => Object.defineProperty(wrapped, 'name', { value: (fn as { _name?: unknown })._name ?? fn.name, configurable: true }));
  return wrapped;
}

function nameRoute(ctx: KoaContext): void {
  safely(() => {
    const route = routeText(ctx._matchedRoute);
    if (route !== undefined) setServerRoute(ctx.req, route);
  });
}

function isThenable(value: unknown): value is Promise<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Recording must never change the request's path.
  }
}
