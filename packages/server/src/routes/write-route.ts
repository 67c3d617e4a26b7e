/**
 * Route config flag for routes that change the server's state other than by ingesting spans (flow
 * contracts today). With `--token`, they need the token like every route. Without one they are refused
 * unless the server was started with `--allow-anonymous-writes`: an open server still takes spans (that
 * is its job, as Zipkin and OpenTelemetry collectors do) but cannot be reconfigured by whoever reaches it.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    write?: boolean;
  }
}

export const WRITE_ROUTE = { config: { write: true } } as const;

export interface WriteGuard {
  /** A token is configured: the app's token check already covers write routes. */
  tokenRequired: boolean;
  /** `--allow-anonymous-writes`. */
  allowAnonymousWrites: boolean;
}

/** Refuses write routes when no token protects them and anonymous writes were not allowed. */
export function registerWriteGuard(app: FastifyInstance, guard: WriteGuard): void {
  if (guard.tokenRequired || guard.allowAnonymousWrites) return;
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.write === true) {
      done(
        new ApiError(
          'anonymous_write',
          `${request.method} ${request.routeOptions.url ?? ''} changes the server's state and this server has no token: start it with --token (and send Authorization: Bearer <token>) or with --allow-anonymous-writes`,
        ),
      );
    } else done();
  });
}
