/**
 * Jaeger query API handlers answer their errors in Jaeger's own shape, `{data: null, total: 0,
 * limit: 0, offset: 0, errors: [{code, msg}]}` with the HTTP status in `code`, because Grafana's
 * Jaeger data source and Jaeger UI show `errors[0].msg` to the user. The status and message come
 * from the one error table (errors.ts). Anything else is rethrown for the app's error handler.
 */
import type { FastifyReply } from 'fastify';
import { StorageInputError } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import type { JaegerResponse } from '../query/jaeger-types.js';
import type { QueryRequest } from './query-handler.js';

export function jaegerErrorBody(status: number, msg: string): JaegerResponse<null> {
  return { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg }] };
}

/** Jaeger's envelope around `data`. */
export function jaegerData<T>(data: T, total = 0): JaegerResponse<T> {
  return { data, total, limit: 0, offset: 0, errors: null };
}

export function jaegerHandler(
  fn: (req: QueryRequest, reply: FastifyReply) => Promise<unknown>,
): (req: QueryRequest, reply: FastifyReply) => Promise<unknown> {
  return async (req, reply) => {
    try {
      return await fn(req, reply);
    } catch (err) {
      const api = err instanceof StorageInputError ? new ApiError('bad_request', err.message) : err;
      if (!(api instanceof ApiError)) throw err;
      return reply.code(api.status).headers(api.headers).send(jaegerErrorBody(api.status, api.message));
    }
  };
}
