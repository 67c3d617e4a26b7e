/**
 * The HTTP shell every Linktrace server shares, whatever it serves (`serve`, and the split roles:
 * collector, ingester, checker, query): connection timeouts, the bearer token, the write guard,
 * security headers, request metrics, and one JSON error shape for every refusal (DESIGN §5).
 * `buildApp` and the roles (roles/) build on it, so an error answers alike from every role.
 */
import { maxHeaderSize } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { ApiError } from '../errors.js';
import { toApiError } from '../app-errors.js';
import type { ServerMetrics } from '../metrics.js';
import { isPublicRequest } from '../routes/public-route.js';
import { registerWriteGuard } from '../routes/write-route.js';
import { tokenCheck } from './token-check.js';
import { DISCARD_LIMITS, discardBody } from './discard-body.js';
import { answerProtocolRefusals, clientErrorHandler, missingHost, protocolRelativePath } from './client-errors.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { DEFAULT_TIMEOUTS, timeoutServerOptions, type HttpTimeouts } from './timeouts.js';

export interface ShellOptions {
  /** Largest request body (Fastify's body limit; ingest routes set their own). */
  maxRequestBytes: number;
  timeouts?: Partial<HttpTimeouts>;
  logger?: FastifyServerOptions['logger'];
  /** Error answers and request latencies are counted here. Read lazily: it may be created after the shell. */
  metrics: () => ServerMetrics | undefined;
}

export interface ShellHooks {
  /** When set, every route but the public ones requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Without a token, write routes are refused unless this is true. */
  allowAnonymousWrites: boolean;
  /** `Retry-After` seconds while the server shuts down. */
  retryAfterSeconds: number;
  /** Called first for every request (serve counts queries under way here). */
  onRequest?: (request: FastifyRequest, reply: FastifyReply) => void;
}

const UNMATCHED_ROUTE = 'unmatched';

function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type('application/json').send(error.body());
}

/** A Fastify instance with the shared connection settings; `installShellHooks` adds the rest. */
export function createShellFastify(options: ShellOptions): FastifyInstance {
  const timeouts = timeoutServerOptions({ ...DEFAULT_TIMEOUTS, ...options.timeouts });
  return Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.maxRequestBytes,
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    // Node would answer a request without Host itself, with an empty body: the onRequest hook does.
    http: { ...timeouts.http, requireHostHeader: false },
    // What Node's HTTP parser refuses (and 408, 431) is answered in the one error shape too.
    clientErrorHandler: clientErrorHandler(maxHeaderSize, (code) => options.metrics()?.errorAnswered(code)),
    // Closing answers come from our own hook, in the one error shape.
    return503OnClosing: false,
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, new ApiError('bad_request', error.message));
    },
  });
}

/** Token, write guard, headers, metrics, error and not-found handlers, and the closing refusal. */
export function installShellHooks(app: FastifyInstance, metrics: ServerMetrics, maxRequestBytes: number, hooks: ShellHooks): void {
  let closing = false;
  const authorized = hooks.token !== undefined && hooks.token !== '' ? tokenCheck(hooks.token) : undefined;
  const retryHeaders = { 'retry-after': String(hooks.retryAfterSeconds) };
  app.addHook('onRequest', (request: FastifyRequest, reply, done) => {
    hooks.onRequest?.(request, reply);
    const isPublic = isPublicRequest(request);
    const refused = missingHost(request.raw) ?? protocolRelativePath(request.raw);
    if (refused !== undefined) {
      done(refused);
    } else if (closing && !isPublic) {
      done(new ApiError('unavailable', 'the server is shutting down', retryHeaders));
    } else if (authorized !== undefined && !isPublic && request.routeOptions.config?.remedy !== true && !authorized(request.headers.authorization)) {
      const message = request.headers.authorization === undefined ? 'this server requires Authorization: Bearer <token>' : 'the token is not valid';
      done(new ApiError('unauthorized', message, { 'www-authenticate': 'Bearer realm="linktrace"' }));
    } else done();
  });
  registerWriteGuard(app, { tokenRequired: authorized !== undefined, allowAnonymousWrites: hooks.allowAnonymousWrites });
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler(async (error, request, reply) => {
    let apiError = toApiError(error, { contentType: request.headers['content-type'], maxRequestBytes });
    if (apiError === undefined) {
      request.log.error({ err: error }, 'unexpected error');
      apiError = new ApiError('internal_error', 'an unexpected error occurred; the server log has the details');
    }
    metrics.errorAnswered(apiError.code);
    if (apiError.code === 'payload_too_large') await discardBody(request.raw, DISCARD_LIMITS * maxRequestBytes);
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) => {
    metrics.errorAnswered('not_found');
    return sendError(reply, new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`));
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  answerProtocolRefusals(app.server, (code) => metrics.errorAnswered(code));
}
