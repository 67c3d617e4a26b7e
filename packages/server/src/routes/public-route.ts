/**
 * Route config flag for routes that stay open when a token is set (`/healthz`): probes from load
 * balancers and orchestrators carry no credentials. A function decides per request (the web UI's
 * catch-all route is open only for what the UI itself answers).
 */
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean | ((request: FastifyRequest) => boolean);
  }
}

export function isPublicRequest(request: FastifyRequest): boolean {
  const open = request.routeOptions.config?.public;
  return open === true || (typeof open === 'function' && open(request));
}

export const PUBLIC_ROUTE = { config: { public: true } } as const;
