import type { SpanHandle } from '../../trace/span-handle.js';
import { normalizeMethod } from '../http/attributes.js';
import { recordError } from '../http/record-error.js';
import { serverSpanOf } from '../http/server.js';

/** The route template that matched, as the framework declares it (`/shops/:id`). */
export const HTTP_ROUTE = 'http.route';

/** Per server span: the route it was last named after and the errors already recorded on it. */
interface RouteState {
  route: string | undefined;
  errors: unknown[];
}

const states = new WeakMap<SpanHandle, RouteState>();

function stateOf(span: SpanHandle): RouteState {
  let state = states.get(span);
  if (state === undefined) states.set(span, (state = { route: undefined, errors: [] }));
  return state;
}

/**
 * A route pattern as text: strings as they are, a RegExp as its literal, an array as its members
 * joined by commas. Undefined for anything else.
 */
export function routeText(pattern: unknown): string | undefined {
  if (typeof pattern === 'string') return pattern;
  if (pattern instanceof RegExp) return String(pattern);
  if (Array.isArray(pattern)) {
    const parts = pattern.map(routeText);
    return parts.every((p) => p !== undefined) && parts.length > 0 ? parts.join(',') : undefined;
  }
  return undefined;
}

/**
 * Names the server span of `req` (a node:http IncomingMessage traced by the http instrumentation)
 * `<METHOD> <route>` and sets `http.route`. Does nothing when the request is not traced.
 */
export function setServerRoute(req: unknown, route: string): void {
  const span = serverSpanOf(req);
  if (span === undefined) return;
  const state = stateOf(span);
  if (state.route === route) return;
  state.route = route;
  span.updateName(`${normalizeMethod((req as { method?: unknown }).method)} ${route}`);
  span.setAttribute(HTTP_ROUTE, route);
}

/**
 * Records an error a route or middleware threw (or passed on) on the server span of `req`, once per
 * error object however many layers it passes through. An error that carries a 4xx status
 * (`ctx.throw(404)`, `createError(400)`) is the client's: it is recorded as an exception event
 * without marking the span failed; any other error marks it failed.
 */
export function noteServerError(req: unknown, error: unknown): void {
  const span = serverSpanOf(req);
  if (span === undefined || error === undefined || error === null) return;
  const state = stateOf(span);
  if (state.errors.includes(error)) return;
  if (state.errors.length >= 16) return;
  state.errors.push(error);
  if (isClientError(error)) span.recordException(error);
  else recordError(span, error);
}

function isClientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && code >= 400 && code < 500;
}

/** A mount point below a base: `''` + `/api/` → `/api`, `/api` + `/` → `/api` (no trailing slash). */
export function joinMount(base: string, pattern: string): string {
  const trimmed = pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
  if (trimmed === '') return base;
  return base + (trimmed.startsWith('/') ? trimmed : `/${trimmed}`);
}

/** A route below a mount point: `/api` + `/shops/:id` → `/api/shops/:id`, `/api` + `/` → `/api`. */
export function joinRoute(base: string, pattern: string): string {
  if (base === '') return pattern;
  if (pattern === '/' || pattern === '') return base;
  return base + (pattern.startsWith('/') ? pattern : `/${pattern}`);
}
