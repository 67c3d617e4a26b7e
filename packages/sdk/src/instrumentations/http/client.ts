import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Attributes } from '@linktrace/model';
import { activeContext } from '../../context/context-manager.js';
import { isTracingSuppressed } from '../../context/suppress.js';
import type { TextMapSetter } from '../../types.js';
import type { InstrumentationContext } from '../core/instrumentation.js';
import {
  HTTP_REQUEST_BODY_SIZE,
  HTTP_REQUEST_METHOD,
  HTTP_REQUEST_METHOD_ORIGINAL,
  HTTP_RESPONSE_BODY_SIZE,
  HTTP_RESPONSE_STATUS_CODE,
  microsBetween,
  normalizeMethod,
  REQUEST_WRITE_US,
  RESPONSE_READ_US,
  SERVER_ADDRESS,
  SERVER_PORT,
  splitHostPort,
  TIME_TO_RESPONSE_US,
  URL_FULL,
  URL_PATH,
  URL_SCHEME,
} from './attributes.js';
import { safePredicate, type HttpInstrumentationConfig } from './config.js';
import { EXCHANGE, Exchange, type WithExchange } from './exchange.js';
import { MESSAGE_CONTEXT, type WithMessageContext } from './message-context.js';
import { recordError } from './record-error.js';

type RequestFunction = (this: unknown, ...args: unknown[]) => ClientRequest;

const REQUEST_HEADER_SETTER: TextMapSetter<ClientRequest> = {
  set(carrier, key, value) {
    carrier.setHeader(key, value);
  },
};

/**
 * The client half of an exchange. It ends when the response body is complete, when the request
 * fails ('error'), or when it closes before either (then it is an error: the answer never came whole).
 */
class ClientExchange extends Exchange {
  responseAt = -1;
  status = 0;

  protected incomingEnded(): void {
    this.end();
  }

  outgoingEvent(event: string | symbol, arg: unknown): void {
    if (this.ended) return;
    if (event === 'response') {
      this.responseAt = performance.now();
      const res = arg as IncomingMessage & WithExchange;
      if (res !== null && typeof res === 'object') {
        this.status = typeof res.statusCode === 'number' ? res.statusCode : 0;
        res[EXCHANGE] = this;
      }
    } else if (event === 'finish') {
      this.outEnd = performance.now();
    } else if (event === 'error') {
      this.fail(arg);
    } else if (event === 'close') {
      this.fail(new Error(this.responseAt < 0 ? 'the connection closed before a response arrived' : 'the connection closed before the response was complete'));
    }
  }

  private fail(error: unknown): void {
    recordError(this.span, error);
    this.end();
  }

  private end(): void {
    this.ended = true;
    const span = this.span;
    span.setAttribute(HTTP_REQUEST_BODY_SIZE, this.bytesOut);
    if (this.outStart >= 0 && this.outEnd >= 0) span.setAttribute(REQUEST_WRITE_US, microsBetween(this.outStart, this.outEnd));
    if (this.responseAt >= 0) {
      span.setAttribute(HTTP_RESPONSE_STATUS_CODE, this.status);
      span.setAttribute(TIME_TO_RESPONSE_US, microsBetween(this.startPerf, this.responseAt));
      span.setAttribute(HTTP_RESPONSE_BODY_SIZE, this.bytesIn);
      if (this.inEnd >= 0) span.setAttribute(RESPONSE_READ_US, microsBetween(this.responseAt, this.inEnd));
      if (this.status >= 400) span.setStatus('error', `HTTP ${this.status}`);
    }
    span.end();
  }
}

/**
 * Wraps `http.request` (or https's). The request is created first, exactly as the caller asked,
 * then described, traced and given the trace headers before anything is sent. The caller's
 * callbacks — and every event of the request and of its response ('response', 'data', 'end',
 * 'error'…) — run in the caller's context, not the client span's: the client span shares its
 * position with the server span it calls, so spans started in a callback are its siblings.
 */
export function tracedRequest(original: RequestFunction, ictx: InstrumentationContext, config: HttpInstrumentationConfig): RequestFunction {
  return function request(this: unknown): ClientRequest {
    // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
    const req = Reflect.apply(original, this, arguments) as ClientRequest;
    if (isTracingSuppressed()) return req;
    try {
      startClientSpan(req, ictx, config);
    } catch (error) {
      ictx.warnOnce('could not trace an outgoing request', error);
    }
    return req;
  };
}

/** `http.get` is `request` + `end()`; rebuilt on the traced request so the span sees the `end`. */
export function tracedGet(tracedRequestFn: RequestFunction): RequestFunction {
  return function get(this: unknown): ClientRequest {
    // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
    const req = Reflect.apply(tracedRequestFn, this, arguments) as ClientRequest;
    req.end();
    return req;
  };
}

function startClientSpan(req: ClientRequest & WithExchange & WithMessageContext, ictx: InstrumentationContext, config: HttpInstrumentationConfig): void {
  if (req === null || typeof req !== 'object' || req[EXCHANGE] !== undefined || safePredicate(config.ignoreOutgoing, req)) return;
  const active = activeContext();
  const method = normalizeMethod(req.method);
  const span = ictx.tracer.startSpan(method, { kind: 'client', parent: active, attributes: clientAttributes(req, method, ictx.options.captureValues) });
  if (!req.headersSent) ictx.tracing.inject(req, REQUEST_HEADER_SETTER, active.withSpan(span));
  req[MESSAGE_CONTEXT] = active;
  if (span.isRecording()) req[EXCHANGE] = new ClientExchange(span, performance.now());
}

function clientAttributes(req: ClientRequest, method: string, captureQuery: boolean): Attributes {
  const https = req.protocol === 'https:';
  const path = typeof req.path === 'string' ? req.path : '/';
  const q = path.indexOf('?');
  const hostHeader = req.getHeader('host');
  let address = typeof req.host === 'string' ? req.host : 'localhost';
  let port: number | undefined;
  if (typeof hostHeader === 'string' && hostHeader !== '') {
    const split = splitHostPort(hostHeader);
    if (split.address === address || address === '') address = split.address;
    port = split.port;
  }
  port ??= https ? 443 : 80;
  const authority = address.includes(':') ? `[${address}]` : address;
  const defaultPort = port === (https ? 443 : 80);
  const attributes: Attributes = {
    [HTTP_REQUEST_METHOD]: method,
    [URL_SCHEME]: https ? 'https' : 'http',
    [URL_FULL]: `${https ? 'https' : 'http'}://${authority}${defaultPort ? '' : `:${port}`}${q < 0 || captureQuery ? path : path.slice(0, q)}`,
    [URL_PATH]: q < 0 ? path : path.slice(0, q),
    [SERVER_ADDRESS]: address,
    [SERVER_PORT]: port,
  };
  if (method === '_OTHER' && typeof req.method === 'string') attributes[HTTP_REQUEST_METHOD_ORIGINAL] = req.method;
  return attributes;
}
