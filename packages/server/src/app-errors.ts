/**
 * Turns anything a route or Fastify itself throws into an ApiError of the one table, so that every
 * error answer has the `{ "error": { "code", "message" } }` shape (DESIGN §5).
 */
import { ApiError, type ErrorCode } from './errors.js';

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_VALIDATION: 'bad_request',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  401: 'unauthorized',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'overloaded',
  503: 'unavailable',
};

export interface ErrorContext {
  contentType?: string;
  maxRequestBytes: number;
}

/** The ApiError for `error`, or undefined for an unexpected (server-side) error. */
export function toApiError(error: unknown, context: ErrorContext): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : 'bad request';
  const mapped = typeof e.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (mapped !== undefined) {
    if (mapped === 'unsupported_media_type') {
      const type = context.contentType;
      const given = type === undefined ? 'no Content-Type' : `Content-Type "${type.slice(0, 100)}"`;
      return new ApiError(mapped, `${given} is not accepted by this route`);
    }
    if (mapped === 'payload_too_large') return new ApiError(mapped, `the body is larger than ${context.maxRequestBytes} bytes`);
    return new ApiError(mapped, message);
  }
  if (error instanceof SyntaxError) return new ApiError('invalid_json', message);
  if (e.validation !== undefined) return new ApiError('bad_request', message);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return new ApiError(STATUS_CODES[status] ?? 'bad_request', message);
  return undefined;
}
