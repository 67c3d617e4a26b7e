/**
 * Answers Node's HTTP layer gives before Fastify sees a request (a request Node's parser refuses, a
 * header block over the size limit, a request that timed out, an `Expect` we do not support, a
 * CONNECT) in the one error shape, instead of Node's and Fastify's own bodies.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from '../errors.js';

/** Why Node's parser refused a request, for the codes a client can do something about. */
const PARSER_MESSAGES: Record<string, string> = {
  HPE_UNEXPECTED_CONTENT_LENGTH: 'the request has more than one Content-Length, or one beside Transfer-Encoding',
  HPE_INVALID_CONTENT_LENGTH: 'the Content-Length header is not one decimal number',
  HPE_INVALID_TRANSFER_ENCODING: 'the Transfer-Encoding is not chunked, or comes with a Content-Length',
  HPE_INVALID_CHUNK_SIZE: 'a chunk size of the chunked body is not a hexadecimal number',
  HPE_INVALID_METHOD: 'the method is not an HTTP method',
  HPE_INVALID_VERSION: 'the HTTP version is not 1.0 or 1.1',
  HPE_INVALID_HEADER_TOKEN: 'a header name holds a character HTTP does not allow',
  HPE_INVALID_URL: 'the request target is not a valid URL path',
};

/** The error answer for what Node's HTTP layer reports on a connection (`clientError`). */
export function clientErrorAnswer(error: NodeJS.ErrnoException, maxHeaderBytes: number): ApiError {
  const code = error.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') return new ApiError('headers_too_large', `the request line and headers are larger than ${maxHeaderBytes} bytes`);
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ApiError('request_timeout', 'the request was not received in time');
  return new ApiError('bad_request', `${PARSER_MESSAGES[code] ?? 'the request is not valid HTTP/1.1'} (${code || 'parse error'})`);
}

/** The whole answer as raw bytes, for a socket no ServerResponse owns. */
function rawAnswer(error: ApiError): string {
  const body = JSON.stringify(error.body());
  const extra = Object.entries(error.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\n${extra}connection: close\r\n\r\n${body}`
  );
}

/**
 * Writes `error` on a socket Node gave up on and closes it. When an answer has already begun on it,
 * writing would corrupt that answer: the socket is only closed then.
 */
export function answerOnSocket(socket: Duplex, error: ApiError): boolean {
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.destroyed || !socket.writable || (inFlight !== undefined && inFlight !== null && inFlight.headersSent)) {
    socket.destroy();
    return false;
  }
  socket.end(rawAnswer(error), () => socket.destroy());
  return true;
}

/** Fastify's `clientErrorHandler`. `answered` counts the answers (the /metrics error counter). */
export function clientErrorHandler(maxHeaderBytes: number, answered: (code: string) => void): (error: Error, socket: Duplex) => void {
  return (error, socket) => {
    // A reset connection has nobody left to answer.
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
    const answer = clientErrorAnswer(error as NodeJS.ErrnoException, maxHeaderBytes);
    if (answerOnSocket(socket, answer)) answered(answer.code);
  };
}

function sendApiError(response: ServerResponse, error: ApiError): void {
  const body = JSON.stringify(error.body());
  response.writeHead(error.status, { ...error.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}

/** The requests Node answers on its own unless someone listens: `Expect` other than 100-continue, CONNECT. */
export function answerProtocolRefusals(server: Server, answered: (code: string) => void): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const error = new ApiError('expectation_failed', `Expect: ${String(request.headers.expect).slice(0, 100)} is not supported (only 100-continue)`);
    answered(error.code);
    sendApiError(response, error);
  });
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    const error = new ApiError('bad_request', 'CONNECT is not supported: this server is not a proxy');
    if (answerOnSocket(socket, error)) answered(error.code);
  });
}

/**
 * A path that starts with `//` (or `/\`, which browsers read the same) is refused: a page served
 * there resolves `//host/...` URLs to another host, so the UI must never load at such a path.
 */
export function protocolRelativePath(request: IncomingMessage): ApiError | undefined {
  const url = request.url ?? '/';
  if (url.length < 2 || url[0] !== '/' || (url[1] !== '/' && url[1] !== '\\')) return undefined;
  return new ApiError('bad_request', 'a path that starts with // is refused (a browser would read it as another host)');
}

/** HTTP/1.1 requires a Host header (RFC 9112 §3.2); the answer when it is missing. */
export function missingHost(request: IncomingMessage): ApiError | undefined {
  if (request.httpVersion !== '1.1' || request.headers.host !== undefined) return undefined;
  return new ApiError('bad_request', 'an HTTP/1.1 request needs a Host header');
}
