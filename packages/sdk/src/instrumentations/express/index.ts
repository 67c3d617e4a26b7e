import diagnostics from 'node:diagnostics_channel';
import type { Instrumentation, ModuleTarget } from '../core/instrumentation.js';
import { unwrap, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';
import { joinMount, joinRoute, noteServerError, routeText, setServerRoute } from '../web-common/server-route.js';

/** The `TracingChannel` Express 5's router (`router` ≥ 2.3) publishes every handler call on. */
const START = 'tracing:express.router.request:start';
const ERROR = 'tracing:express.router.request:error';

/** What the router puts on the channel (only the fields read here). */
interface HandlerEvent {
  req?: unknown;
  layer?: unknown;
  route?: unknown;
  error?: unknown;
}

/** Per request: the route template of the router handling it now, and the mount about to run. */
interface MountState {
  base: string;
  pendingMount: unknown;
}

type Handle = (this: unknown, req: unknown, res: unknown, callback: unknown) => unknown;
interface RouterExports {
  prototype?: { handle?: unknown };
}

const mounts = new WeakMap<object, MountState>();

/**
 * Express 5: names the server span `<METHOD> <route template>` (mount points included, so
 * `app.use('/api', router)` + `router.get('/shops/:id')` gives `/api/shops/:id`) and records the
 * errors handlers throw, reject or pass to `next(err)`.
 *
 * Errors and matched patterns come from the router's own diagnostics channel; one wrapper on
 * `Router.prototype.handle` tracks which mount point a (sub-)router serves, because a pattern on
 * the channel is relative to the router that matched it.
 */
export function expressInstrumentation(): Instrumentation {
  return {
    name: 'express',
    targets: [expressTarget, routerTarget],
    enable() {
      diagnostics.subscribe(START, onStart);
      diagnostics.subscribe(ERROR, onError);
    },
    disable() {
      diagnostics.unsubscribe(START, onStart);
      diagnostics.unsubscribe(ERROR, onError);
    },
  };
}

/** Express itself is only checked: 4 routes with a router of its own that this does not know. */
const expressTarget: ModuleTarget = {
  package: 'express',
  patch(_exports, _ctx, loaded) {
    requireMajor('express', loaded.version, 5, 5);
  },
  unpatch() {},
};

const routerTarget: ModuleTarget = {
  package: 'router',
  patch(exports, _ctx, loaded) {
    requireMajor('router', loaded.version, 2, 2);
    const minor = Number(/^\d+\.(\d+)\./.exec(loaded.version ?? '')?.[1]);
    if (!(minor >= 3)) throw new Error(`version ${loaded.version} has no diagnostics channel (needs router ≥ 2.3, which express 5 installs)`);
    const proto = typeof exports === 'function' ? (exports as RouterExports).prototype : undefined;
    if (proto === undefined || typeof proto.handle !== 'function') throw new Error('unexpected export shape: no Router.prototype.handle');
    wrap(proto as { handle: Handle }, 'handle', (original) =>
      function linktraceHandle(this: unknown, req: unknown, res: unknown, callback: unknown): unknown {
        if (req === null || typeof req !== 'object' || typeof callback !== 'function') return original.call(this, req, res, callback);
        let state = mounts.get(req);
        if (state === undefined) mounts.set(req, (state = { base: '', pendingMount: undefined }));
        const parentBase = state.base;
        const mount = routeText(state.pendingMount);
        state.pendingMount = undefined;
        if (mount !== undefined) state.base = joinMount(parentBase, mount);
        const entered = state;
        // The router calls back when it is done with the request: the parent's base applies again.
        const done = function (this: unknown, ...args: unknown[]): unknown {
          entered.base = parentBase;
          return (callback as (...a: unknown[]) => unknown).apply(this, args);
        };
        return original.call(this, req, res, done);
      },
    );
  },
  unpatch(exports) {
    const proto = typeof exports === 'function' ? (exports as RouterExports).prototype : undefined;
    if (proto !== undefined) unwrap(proto as { handle: Handle }, 'handle');
  },
};

function onStart(message: unknown): void {
  try {
    const event = message as HandlerEvent;
    const req = event.req;
    if (req === null || typeof req !== 'object') return;
    const state = mounts.get(req);
    // A route's own handler: `req.route` is the route being dispatched and holds this layer.
    const route = (req as { route?: { stack?: unknown; path?: unknown } }).route;
    if (route !== undefined && route !== null && Array.isArray(route.stack) && route.stack.includes(event.layer)) {
      const pattern = routeText(event.route) ?? routeText(route.path);
      if (pattern !== undefined) setServerRoute(req, joinRoute(state?.base ?? '', pattern));
      return;
    }
    // Any other layer may be a mount point: if its handler is a router, it enters `handle` next.
    if (state !== undefined) state.pendingMount = event.route;
  } catch {
    // A subscriber must never throw into the router.
  }
}

function onError(message: unknown): void {
  try {
    const event = message as HandlerEvent;
    noteServerError(event.req, event.error);
  } catch {
    // A subscriber must never throw into the router.
  }
}
