/** OpenTelemetry semantic-convention names used by the HTTP spans, plus Linktrace's timing details. */
export const HTTP_REQUEST_METHOD = 'http.request.method';
export const HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
export const HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const HTTP_REQUEST_BODY_SIZE = 'http.request.body.size';
export const HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size';
export const URL_FULL = 'url.full';
export const URL_PATH = 'url.path';
export const URL_QUERY = 'url.query';
export const URL_SCHEME = 'url.scheme';
export const SERVER_ADDRESS = 'server.address';
export const SERVER_PORT = 'server.port';
export const CLIENT_ADDRESS = 'client.address';
export const CLIENT_PORT = 'client.port';
export const NETWORK_PROTOCOL_VERSION = 'network.protocol.version';
export const USER_AGENT_ORIGINAL = 'user_agent.original';
export const ERROR_TYPE = 'error.type';

/** Server: span start (headers parsed) → last request body byte received. */
export const REQUEST_READ_US = 'linktrace.http.request_read_us';
/** Server: first response body write (or `end`) → response handed to the OS. */
export const RESPONSE_WRITE_US = 'linktrace.http.response_write_us';
/** Client: first request body write (or `end`) → request handed to the OS. */
export const REQUEST_WRITE_US = 'linktrace.http.request_write_us';
/** Client: span start → response headers received (connect, send, server time). */
export const TIME_TO_RESPONSE_US = 'linktrace.http.time_to_response_us';
/** Client: response headers → last response body byte received. */
export const RESPONSE_READ_US = 'linktrace.http.response_read_us';
/** Server: the client went away before the response was complete. */
export const ABORTED = 'linktrace.http.aborted';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** The method as the conventions want it: a known method in upper case, anything else `_OTHER`. */
export function normalizeMethod(method: unknown): string {
  if (typeof method !== 'string') return 'GET';
  if (KNOWN_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

export { splitHostPort } from '../core/host-port.js';

/** µs between two `performance.now()` readings. */
export function microsBetween(from: number, to: number): number {
  return Math.max(0, Math.round((to - from) * 1000));
}
