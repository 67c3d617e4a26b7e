/**
 * Our error codes as gRPC statuses (docs/server.md has the table). Refusals the sender should retry
 * later carry a `google.rpc.RetryInfo` in the `grpc-status-details-bin` trailer: the OTLP spec makes
 * RESOURCE_EXHAUSTED retryable only with it, and gives the delay the exporter waits. Size refusals are
 * RESOURCE_EXHAUSTED without it (not retryable), as grpc-js's own message-size check answers.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_CODES, type ApiError, type ErrorCode } from '../errors.js';
import { varintLength, writeVarint } from '../ingest/otlp-response.js';

export { GrpcStatus };

/** Codes whose meaning has a gRPC status of its own; the others follow their HTTP status (grpcStatusOf). */
const NAMED: Partial<Record<ErrorCode, GrpcStatus>> = {
  unauthorized: GrpcStatus.UNAUTHENTICATED,
  anonymous_write: GrpcStatus.PERMISSION_DENIED,
  too_many_flows: GrpcStatus.FAILED_PRECONDITION,
  not_found: GrpcStatus.NOT_FOUND,
  unsupported_encoding: GrpcStatus.UNIMPLEMENTED,
  request_timeout: GrpcStatus.DEADLINE_EXCEEDED,
};

/**
 * The gRPC status of an error code: its own (NAMED), else by its HTTP status, so that a code added to
 * the table later maps without a change here: 413/429 RESOURCE_EXHAUSTED, 500 INTERNAL, other 5xx
 * UNAVAILABLE, other 4xx INVALID_ARGUMENT.
 */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  const named = NAMED[code];
  if (named !== undefined) return named;
  const http: number = ERROR_CODES[code].status;
  if (http === 413 || http === 429) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (http === 500) return GrpcStatus.INTERNAL;
  if (http >= 500) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.INVALID_ARGUMENT;
}

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const RETRY_INFO_TYPE = Buffer.from('type.googleapis.com/google.rpc.RetryInfo', 'utf8');

function varintField(field: number, value: number): Buffer {
  const out = Buffer.allocUnsafe(1 + varintLength(value));
  out[0] = field << 3;
  writeVarint(out, 1, value);
  return out;
}

function bytesField(field: number, bytes: Buffer): Buffer {
  const head = Buffer.allocUnsafe(1 + varintLength(bytes.length));
  head[0] = (field << 3) | 2;
  writeVarint(head, 1, bytes.length);
  return Buffer.concat([head, bytes]);
}

/** `google.rpc.Status { code, message, details: [Any(RetryInfo { retry_delay: Duration { seconds } })] }`. */
export function retryStatusDetails(code: GrpcStatus, message: string, retryAfterSeconds: number): Buffer {
  const duration = retryAfterSeconds > 0 ? varintField(1, retryAfterSeconds) : Buffer.alloc(0);
  const retryInfo = bytesField(1, duration);
  const any = Buffer.concat([bytesField(1, RETRY_INFO_TYPE), bytesField(2, retryInfo)]);
  return Buffer.concat([varintField(1, code), bytesField(2, Buffer.from(message, 'utf8')), bytesField(3, any)]);
}

/** What a gRPC handler answers for `error`: status, details (`<code>: <message>`) and trailers. */
export interface GrpcError {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

/**
 * The answer to a refusal. An error whose HTTP answer says `Retry-After` (backlog full, decompression
 * budget spent, shutting down, log not writable) carries the same delay as RetryInfo. The error code
 * travels in the details and in the `linktrace-error-code` trailer.
 */
export function toGrpcError(error: ApiError): GrpcError {
  const code = grpcStatusOf(error.code);
  const details = `${error.code}: ${error.message}`;
  const metadata = new Metadata();
  metadata.set('linktrace-error-code', error.code);
  const retryAfter = error.headers['retry-after'];
  const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
  if (Number.isSafeInteger(seconds) && seconds >= 0) metadata.set(STATUS_DETAILS_KEY, retryStatusDetails(code, details, seconds));
  return { code, details, metadata };
}
