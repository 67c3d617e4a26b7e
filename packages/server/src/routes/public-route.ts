/**
 * Route config flag for routes that stay open when a token is set (`/healthz`): probes from load
 * balancers and orchestrators carry no credentials.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export const PUBLIC_ROUTE = { config: { public: true } } as const;
