/**
 * Query handlers answer their own errors, so the routes give the same `{ error: { code, message } }`
 * bodies whether they are mounted on the server's app or on a bare fastify instance. Anything else
 * is rethrown for the app's error handler (a 500).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StorageInputError } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import type { RawQuery } from '../query/query-params.js';

export type QueryRequest = FastifyRequest<{ Querystring: RawQuery; Params: Record<string, string> }>;

/**
 * Wraps a query route: its ApiErrors (and the store's input errors, as 400) are answered with their
 * status and headers and the body `errorBody` makes of them (default: ours).
 */
export function queryHandler(
  fn: (req: QueryRequest, reply: FastifyReply) => Promise<unknown>,
  errorBody: (error: ApiError) => unknown = (error) => error.body(),
): (req: QueryRequest, reply: FastifyReply) => Promise<unknown> {
  return async (req, reply) => {
    try {
      return await fn(req, reply);
    } catch (err) {
      const api = err instanceof StorageInputError ? new ApiError('bad_request', err.message) : err;
      if (!(api instanceof ApiError)) throw err;
      return reply.code(api.status).headers(api.headers).send(errorBody(api));
    }
  };
}
