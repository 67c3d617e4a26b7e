import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes } from '@linktrace/model';
import type { Context } from '../../context/context.js';
import { contextStorage } from '../../context/context-manager.js';
import { headerGetter } from '../../propagation/carriers.js';
import type { TextMapGetter } from '../../types.js';
import { perfFromUs, usFromPerf } from '../../trace/clock.js';
import { RecordingSpan } from '../../trace/recording-span.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { InstrumentationContext } from '../core/instrumentation.js';
import { wrap } from '../core/shim.js';
import {
  ABORTED,
  CLIENT_ADDRESS,
  CLIENT_PORT,
  HTTP_REQUEST_BODY_SIZE,
  HTTP_REQUEST_METHOD,
  HTTP_REQUEST_METHOD_ORIGINAL,
  HTTP_RESPONSE_BODY_SIZE,
  HTTP_RESPONSE_STATUS_CODE,
  microsBetween,
  NETWORK_PROTOCOL_VERSION,
  normalizeMethod,
  REQUEST_READ_US,
  RESPONSE_WRITE_US,
  SERVER_ADDRESS,
  SERVER_PORT,
  splitHostPort,
  URL_PATH,
  URL_QUERY,
  URL_SCHEME,
  USER_AGENT_ORIGINAL,
} from './attributes.js';
import { safePredicate, type HttpInstrumentationConfig } from './config.js';
import { EXCHANGE, Exchange, type WithExchange } from './exchange.js';
import { MESSAGE_CONTEXT, type WithMessageContext } from './message-context.js';
import { recordError } from './record-error.js';

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
type IncomingHeaders = IncomingMessage['headers'];

/**
 * `req.headers` as Node's parser builds it: names are lower case already, so the lower-case names
 * propagators ask for are one property read each — a header that is absent (the common case for B3,
 * baggage, the transaction id) costs no case-insensitive scan of every header. Any other name, and
 * the key list, go through the general header getter.
 */
const INCOMING_HEADERS: TextMapGetter<IncomingHeaders> = {
  get(carrier, key) {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (value === undefined && !hasUpperCase(key)) return undefined;
    return headerGetter.get(carrier, key);
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

function hasUpperCase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** The server half of an exchange; ends at the response's 'finish', or at 'close' if it never finished. */
class ServerExchange extends Exchange {
  protected incomingEnded(): void {
    // The request body is complete; the span ends with the response.
  }

  outgoingEvent(event: string | symbol, _arg: unknown, emitter: unknown): void {
    if (this.ended) return;
    if (event === 'finish') {
      this.outEnd = performance.now();
      this.end(emitter as ServerResponse, false);
    } else if (event === 'close') {
      this.end(emitter as ServerResponse, true);
    }
  }

  private end(res: ServerResponse, aborted: boolean): void {
    this.ended = true;
    const span = this.span;
    const status = res.statusCode;
    span.setAttribute(HTTP_RESPONSE_STATUS_CODE, status);
    span.setAttribute(HTTP_REQUEST_BODY_SIZE, this.bytesIn);
    span.setAttribute(HTTP_RESPONSE_BODY_SIZE, this.bytesOut);
    if (this.inEnd >= 0) span.setAttribute(REQUEST_READ_US, microsBetween(this.startPerf, this.inEnd));
    if (this.outStart >= 0 && this.outEnd >= 0) span.setAttribute(RESPONSE_WRITE_US, microsBetween(this.outStart, this.outEnd));
    if (aborted) {
      span.setAttribute(ABORTED, true);
      span.addEvent('aborted');
      span.setStatus('error', 'the client closed the connection before the response was complete');
    } else if (status >= 500) {
      span.setStatus('error', `HTTP ${status}`);
    }
    // A finished response ends the span at 'finish', the time already read for the write timing.
    span.end(aborted || this.outEnd < 0 ? undefined : usFromPerf(this.outEnd));
  }
}

/**
 * Wraps `Server.prototype.emit` of node:http or node:https: each 'request' gets a server span whose
 * context is active while the listeners (the application) run, and while every later event of the
 * request and the response is handled (message-context.ts). Returns false if nothing was wrapped.
 */
export function patchServer(proto: object, scheme: 'http' | 'https', ictx: InstrumentationContext, config: HttpInstrumentationConfig): boolean {
  const { tracing, tracer } = ictx;
  const captureQuery = ictx.options.captureValues;
  const storage = contextStorage();
  const host: HostMemo = { text: '', address: '', port: 0 };
  return wrap(proto as { emit: Emit }, 'emit', (original) =>
    function emit(this: unknown, event: string | symbol, request?: unknown, response?: unknown) {
      // eslint-disable-next-line prefer-rest-params -- no array per call: every server event passes here
      const args = arguments;
      if (event !== 'request') return Reflect.apply(original, this, args) as boolean;
      const req = request as IncomingMessage & WithExchange & WithMessageContext;
      const res = response as ServerResponse & WithExchange & WithMessageContext;
      if (req === null || typeof req !== 'object' || res === null || typeof res !== 'object' || safePredicate(config.ignoreIncoming, req)) {
        return Reflect.apply(original, this, args) as boolean;
      }
      let span: SpanHandle;
      let active: Context;
      try {
        const headers = req.headers;
        const parent = headers !== null && typeof headers === 'object' ? tracing.extract(headers, INCOMING_HEADERS) : tracing.extract(headers);
        const method = normalizeMethod(req.method);
        span = tracer.startSpan(method, { kind: 'server', parent, attributes: serverAttributes(req, method, scheme, captureQuery, host) });
        active = parent.withSpan(span);
        req[MESSAGE_CONTEXT] = active;
        res[MESSAGE_CONTEXT] = active;
        if (span.isRecording()) {
          // The span's start is the exchange's start: no second clock reading (60–80 ns on some VMs).
          const exchange = new ServerExchange(span, span instanceof RecordingSpan ? perfFromUs(span.startUs) : performance.now());
          req[EXCHANGE] = exchange;
          res[EXCHANGE] = exchange;
        }
      } catch (error) {
        ictx.warnOnce('could not start a server span', error);
        return Reflect.apply(original, this, args) as boolean;
      }
      try {
        return storage.run(active, applyEmit, original, this, args);
      } catch (error) {
        recordError(span, error);
        throw error;
      }
    } as Emit,
  );
}

/** A named function instead of a closure: `AsyncLocalStorage.run` passes the arguments through. */
function applyEmit(original: Emit, self: unknown, args: IArguments): boolean {
  return Reflect.apply(original, self, args) as boolean;
}

/** The last Host header seen and its parts: a server nearly always gets the same one. */
interface HostMemo {
  text: string;
  address: string;
  port: number;
}

function serverAttributes(req: IncomingMessage, method: string, scheme: string, captureQuery: boolean, memo: HostMemo): Attributes {
  const url = typeof req.url === 'string' ? req.url : '/';
  const q = url.indexOf('?');
  const attributes: Attributes = {
    [HTTP_REQUEST_METHOD]: method,
    [URL_SCHEME]: scheme,
    [URL_PATH]: q < 0 ? url : url.slice(0, q),
  };
  if (q >= 0 && captureQuery) attributes[URL_QUERY] = url.slice(q + 1);
  if (method === '_OTHER' && typeof req.method === 'string') attributes[HTTP_REQUEST_METHOD_ORIGINAL] = req.method;
  const host = req.headers.host;
  if (typeof host === 'string' && host !== '') {
    if (host !== memo.text) {
      const { address, port } = splitHostPort(host);
      memo.text = host;
      memo.address = address;
      memo.port = port ?? (scheme === 'https' ? 443 : 80);
    }
    attributes[SERVER_ADDRESS] = memo.address;
    attributes[SERVER_PORT] = memo.port;
  }
  const socket = req.socket;
  if (socket !== null && socket !== undefined) {
    if (socket.remoteAddress !== undefined) attributes[CLIENT_ADDRESS] = socket.remoteAddress;
    if (socket.remotePort !== undefined) attributes[CLIENT_PORT] = socket.remotePort;
  }
  if (typeof req.httpVersion === 'string') attributes[NETWORK_PROTOCOL_VERSION] = req.httpVersion;
  const agent = req.headers['user-agent'];
  if (typeof agent === 'string') attributes[USER_AGENT_ORIGINAL] = agent;
  return attributes;
}

/** The server span of an incoming request (or of its response), when it is traced and recording. */
export function serverSpanOf(message: unknown): SpanHandle | undefined {
  if (message === null || typeof message !== 'object') return undefined;
  const exchange = (message as WithExchange)[EXCHANGE];
  return exchange instanceof ServerExchange ? exchange.span : undefined;
}
