/**
 * How long a client may take, so that slow or stalled sockets cannot pile up: the request line and
 * headers within `headerMs`, the whole request (headers and body) within `bodyMs`, and a kept-alive
 * connection may sit idle between requests for `idleMs`. A request over its time gets 408
 * `request_timeout` and the socket is closed.
 */
import type { ServerOptions } from 'node:http';

export interface HttpTimeouts {
  headerMs: number;
  bodyMs: number;
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  headerMs: 30_000,
  bodyMs: 60_000,
  // Longer than the 60 s idle timeout of common load balancers, so they close first (as Fastify's default).
  idleMs: 72_000,
};

/**
 * Node enforces header and request timeouts by sweeping its connections every
 * `connectionsCheckingInterval` (30 s by default): a sweep a quarter of the shorter timeout apart
 * closes a slow socket at most 25% late, and never sweeps more than 40 times a second.
 */
function sweepIntervalMs(t: HttpTimeouts): number {
  return Math.max(25, Math.min(1000, Math.floor(Math.min(t.headerMs, t.bodyMs) / 4)));
}

/** The Fastify server options that apply `t`. */
export function timeoutServerOptions(t: HttpTimeouts): {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: ServerOptions;
} {
  if (t.headerMs > t.bodyMs) throw new RangeError(`the header timeout (${t.headerMs} ms) is longer than the body timeout (${t.bodyMs} ms)`);
  return {
    requestTimeout: t.bodyMs,
    keepAliveTimeout: t.idleMs,
    // requestTimeout here too: Node checks headersTimeout against it when the server is created.
    http: { headersTimeout: t.headerMs, requestTimeout: t.bodyMs, connectionsCheckingInterval: sweepIntervalMs(t) },
  };
}
