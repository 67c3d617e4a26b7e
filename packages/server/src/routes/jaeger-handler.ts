/**
 * Jaeger query API handlers answer their errors in Jaeger's own shape, `{data: null, total: 0,
 * limit: 0, offset: 0, errors: [{code, msg}]}` with the HTTP status in `code`, because Grafana's
 * Jaeger data source and Jaeger UI show `errors[0].msg` to the user. The status and message come
 * from the one error table (errors.ts). Anything else is rethrown for the app's error handler.
 */
import type { FastifyReply } from 'fastify';
import type { JaegerResponse } from '../query/jaeger-types.js';
import { queryHandler, type QueryRequest } from './query-handler.js';

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
  return queryHandler(fn, (api) => jaegerErrorBody(api.status, api.message));
}
