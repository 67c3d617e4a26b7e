import dc from 'node:diagnostics_channel';
import type { Attributes } from '@linktrace/model';
import { activeContext } from '../../context/context-manager.js';
import { isTracingSuppressed } from '../../context/suppress.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { TextMapSetter } from '../../types.js';
import type { Instrumentation, InstrumentationContext } from '../core/instrumentation.js';
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
  TIME_TO_RESPONSE_US,
  URL_FULL,
  URL_PATH,
  URL_SCHEME,
} from '../http/attributes.js';
import { recordError } from '../http/record-error.js';

export interface FetchInstrumentationConfig {
  /** Requests for which this returns true (given `origin + path`) are not traced and get no headers. */
  ignoreOutgoing?: (url: string) => boolean;
}

/** The parts of undici's internal Request the diagnostics messages expose and we use. */
interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
  headers?: unknown;
  contentLength?: unknown;
  addHeader?: (name: string, value: string) => unknown;
  [EXCHANGE]?: FetchExchange;
}

interface UndiciResponse {
  statusCode?: unknown;
  headers?: unknown;
}

const EXCHANGE = Symbol('linktrace.fetchExchange');

/** One traced fetch; times are `performance.now()` readings, -1 = not happened. */
class FetchExchange {
  headersSentAt = -1;
  bodySentAt = -1;
  responseAt = -1;
  status = 0;
  responseSize = -1;

  constructor(
    readonly span: SpanHandle,
    readonly startPerf: number,
    readonly requestSize: number,
  ) {}

  end(endPerf: number): void {
    const span = this.span;
    if (this.requestSize >= 0) span.setAttribute(HTTP_REQUEST_BODY_SIZE, this.requestSize);
    if (this.headersSentAt >= 0 && this.bodySentAt >= 0) span.setAttribute(REQUEST_WRITE_US, microsBetween(this.headersSentAt, this.bodySentAt));
    if (this.responseAt >= 0) {
      span.setAttribute(HTTP_RESPONSE_STATUS_CODE, this.status);
      span.setAttribute(TIME_TO_RESPONSE_US, microsBetween(this.startPerf, this.responseAt));
      if (endPerf >= 0) span.setAttribute(RESPONSE_READ_US, microsBetween(this.responseAt, endPerf));
      if (this.responseSize >= 0) span.setAttribute(HTTP_RESPONSE_BODY_SIZE, this.responseSize);
      if (this.status >= 400) span.setStatus('error', `HTTP ${this.status}`);
    }
    span.end();
  }
}

const ADD_HEADER_SETTER: TextMapSetter<UndiciRequest> = {
  set(carrier, key, value) {
    carrier.addHeader!(key, value);
  },
};

/**
 * The global `fetch` (undici, bundled with Node) through its diagnostics channels: nothing is
 * patched. A request's span starts when undici creates it (in the caller's async context), the
 * trace headers are added then, and the span ends with the response body ('trailers') or an error.
 * The response size is its content-length when the server sent one (the body stream is not seen).
 */
export function fetchInstrumentation(config: FetchInstrumentationConfig = {}): Instrumentation {
  const subscriptions: [string, (message: unknown) => void][] = [];
  return {
    name: 'fetch',
    enable(ictx) {
      const guard = (handler: (message: { request?: UndiciRequest }) => void) => (message: unknown) => {
        try {
          if (message !== null && typeof message === 'object') handler(message as { request?: UndiciRequest });
        } catch (error) {
          ictx.warnOnce('could not handle an undici event', error);
        }
      };
      subscriptions.push(
        ['undici:request:create', guard((m) => onCreate(m.request, ictx, config))],
        ['undici:client:sendHeaders', guard((m) => stamp(m.request, 'headersSentAt'))],
        ['undici:request:bodySent', guard((m) => stamp(m.request, 'bodySentAt'))],
        ['undici:request:headers', guard((m) => onHeaders(m.request, (m as { response?: UndiciResponse }).response))],
        ['undici:request:trailers', guard((m) => finish(m.request, undefined))],
        ['undici:request:error', guard((m) => finish(m.request, (m as { error?: unknown }).error ?? new Error('fetch failed')))],
      );
      for (const [name, handler] of subscriptions) dc.subscribe(name, handler);
    },
    disable() {
      for (const [name, handler] of subscriptions) dc.unsubscribe(name, handler);
      subscriptions.length = 0;
    },
  };
}

function onCreate(request: UndiciRequest | undefined, ictx: InstrumentationContext, config: FetchInstrumentationConfig): void {
  if (request === null || typeof request !== 'object' || request[EXCHANGE] !== undefined) return;
  const active = activeContext();
  if (isTracingSuppressed(active)) return;
  const origin = typeof request.origin === 'string' ? request.origin : String(request.origin);
  const path = typeof request.path === 'string' ? request.path : '/';
  if (config.ignoreOutgoing !== undefined) {
    try {
      if (config.ignoreOutgoing(origin + path) === true) return;
    } catch {
      // A throwing predicate counts as "trace it".
    }
  }
  const method = normalizeMethod(request.method);
  const span = ictx.tracer.startSpan(method, { kind: 'client', parent: active, attributes: fetchAttributes(request, origin, path, method, ictx.options.captureValues) });
  if (typeof request.addHeader === 'function' && !hasHeader(request.headers, 'traceparent')) {
    ictx.tracing.inject(request, ADD_HEADER_SETTER, active.withSpan(span));
  }
  if (!span.isRecording()) return;
  const size = typeof request.contentLength === 'number' && request.contentLength >= 0 ? request.contentLength : -1;
  request[EXCHANGE] = new FetchExchange(span, performance.now(), size);
}

function stamp(request: UndiciRequest | undefined, field: 'headersSentAt' | 'bodySentAt'): void {
  const exchange = request?.[EXCHANGE];
  if (exchange !== undefined) exchange[field] = performance.now();
}

function onHeaders(request: UndiciRequest | undefined, response: UndiciResponse | undefined): void {
  const exchange = request?.[EXCHANGE];
  if (exchange === undefined || response === undefined) return;
  exchange.responseAt = performance.now();
  exchange.status = typeof response.statusCode === 'number' ? response.statusCode : 0;
  const length = headerValue(response.headers, 'content-length');
  if (length !== undefined) {
    const n = Number(length);
    if (Number.isSafeInteger(n) && n >= 0) exchange.responseSize = n;
  }
}

function finish(request: UndiciRequest | undefined, error: unknown): void {
  const exchange = request?.[EXCHANGE];
  if (exchange === undefined) return;
  request![EXCHANGE] = undefined;
  const now = performance.now();
  if (error !== undefined) recordError(exchange.span, error);
  exchange.end(error === undefined ? now : -1);
}

const PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };
/** Parsed origins, so a service calling the same hosts parses each once. Bounded. */
const origins = new Map<string, { scheme: string; address: string; port: number } | null>();

function parseOrigin(origin: string): { scheme: string; address: string; port: number } | null {
  let parsed = origins.get(origin);
  if (parsed !== undefined) return parsed;
  try {
    const url = new URL(origin);
    const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    parsed = { scheme: url.protocol.slice(0, -1), address, port: url.port === '' ? (PORTS[url.protocol] ?? 0) : Number(url.port) };
  } catch {
    parsed = null;
  }
  if (origins.size >= 1000) origins.clear();
  origins.set(origin, parsed);
  return parsed;
}

function fetchAttributes(request: UndiciRequest, origin: string, path: string, method: string, captureQuery: boolean): Attributes {
  const q = path.indexOf('?');
  const attributes: Attributes = {
    [HTTP_REQUEST_METHOD]: method,
    [URL_FULL]: origin + (q < 0 || captureQuery ? path : path.slice(0, q)),
    [URL_PATH]: q < 0 ? path : path.slice(0, q),
  };
  const parsed = parseOrigin(origin);
  if (parsed !== null) {
    attributes[URL_SCHEME] = parsed.scheme;
    attributes[SERVER_ADDRESS] = parsed.address;
    attributes[SERVER_PORT] = parsed.port;
  }
  if (method === '_OTHER' && typeof request.method === 'string') attributes[HTTP_REQUEST_METHOD_ORIGINAL] = request.method;
  return attributes;
}

/** Undici keeps headers as a flat [name, value, …] array (strings or Buffers), or as one string in old versions. */
function headerValue(headers: unknown, lowerName: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name: unknown = headers[i];
      const text = typeof name === 'string' ? name : name instanceof Uint8Array ? Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1') : '';
      if (text.length === lowerName.length && text.toLowerCase() === lowerName) {
        const value: unknown = headers[i + 1];
        return typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1') : undefined;
      }
    }
    return undefined;
  }
  if (typeof headers === 'string') {
    const at = headers.toLowerCase().indexOf(`${lowerName}:`);
    if (at < 0 || (at > 0 && headers[at - 1] !== '\n')) return undefined;
    const end = headers.indexOf('\r\n', at);
    return headers.slice(at + lowerName.length + 1, end < 0 ? undefined : end).trim();
  }
  return undefined;
}

function hasHeader(headers: unknown, lowerName: string): boolean {
  return headerValue(headers, lowerName) !== undefined;
}
