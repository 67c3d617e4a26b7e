import diagnostics from 'node:diagnostics_channel';
import type { Instrumentation, ModuleTarget } from '../core/instrumentation.js';
import { requireMajor } from '../core/version-range.js';
import { noteServerError, routeText, setServerRoute } from '../web-common/server-route.js';

/** Fastify 5's own channels: one TracingChannel around each route handler, one per new instance. */
const HANDLER_START = 'tracing:fastify.request.handler:start';
const HANDLER_ERROR = 'tracing:fastify.request.handler:error';
const INITIALIZATION = 'fastify.initialization';

/** What Fastify puts on the handler channel (only the fields read here). */
interface HandlerEvent {
  request?: { raw?: unknown };
  route?: { url?: unknown };
  error?: unknown;
}

interface HookRequest {
  raw?: unknown;
  routeOptions?: { url?: unknown };
}
type OnErrorHook = (request: HookRequest, reply: unknown, error: unknown, done: () => void) => void;
interface FastifyInstance {
  addHook?: (name: string, hook: OnErrorHook) => unknown;
}

/**
 * Fastify: names the server span `<METHOD> <route url>` (`/shops/:id`, with plugin prefixes) and
 * records the errors a handler throws or rejects, from Fastify's `fastify.request.handler`
 * diagnostics channel. Instances created while enabled also get an `onError` hook, which sees the
 * errors of hooks (`onRequest`, `preHandler`, …) and validation too. Nothing is patched.
 */
export function fastifyInstrumentation(): Instrumentation {
  return {
    name: 'fastify',
    targets: [fastifyTarget],
    enable() {
      diagnostics.subscribe(HANDLER_START, onHandlerStart);
      diagnostics.subscribe(HANDLER_ERROR, onHandlerError);
      diagnostics.subscribe(INITIALIZATION, onInitialization);
    },
    disable() {
      diagnostics.unsubscribe(HANDLER_START, onHandlerStart);
      diagnostics.unsubscribe(HANDLER_ERROR, onHandlerError);
      diagnostics.unsubscribe(INITIALIZATION, onInitialization);
    },
  };
}

/** Only checked: a Fastify this does not know gets a warning (its channels may differ). */
const fastifyTarget: ModuleTarget = {
  package: 'fastify',
  patch(_exports, _ctx, loaded) {
    requireMajor('fastify', loaded.version, 5, 5);
  },
  unpatch() {},
};

function onHandlerStart(message: unknown): void {
  try {
    const event = message as HandlerEvent;
    const route = routeText(event.route?.url);
    if (route !== undefined) setServerRoute(event.request?.raw, route);
  } catch {
    // A subscriber must never throw into Fastify.
  }
}

function onHandlerError(message: unknown): void {
  try {
    const event = message as HandlerEvent;
    noteServerError(event.request?.raw, event.error);
  } catch {
    // A subscriber must never throw into Fastify.
  }
}

function recordHookError(request: HookRequest, _reply: unknown, error: unknown, done: () => void): void {
  try {
    // A hook that failed before the handler: the route is known, the handler channel never fired.
    const route = routeText(request?.routeOptions?.url);
    if (route !== undefined) setServerRoute(request.raw, route);
    noteServerError(request?.raw, error);
  } catch {
    // Recording must never change the error's path.
  }
  done();
}

function onInitialization(message: unknown): void {
  try {
    const fastify = (message as { fastify?: FastifyInstance } | null)?.fastify;
    if (typeof fastify?.addHook === 'function') fastify.addHook('onError', recordHookError);
  } catch {
    // An instance that refuses the hook still gets route names and handler errors.
  }
}
