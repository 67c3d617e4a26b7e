import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import http, { type Server } from 'node:http';
import type { Span } from '@linktrace/model';
import { CollectingSpanProcessor, createTracing } from '../src/index.js';
import { instrument, type Instrumentation, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { httpInstrumentation } from '../src/instrumentations/http/index.js';

/** What a client sees of a response: compared byte for byte with and without instrumentation. */
export interface Seen {
  path: string;
  status: number;
  contentType: string | null;
  body: string;
}

export function tracingWithCollector(service: string) {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service, processors: [collector] });
  return { collector, tracing };
}

/** http plus the framework's instrumentation, on a tracing that collects its spans. */
export function enableWith(framework: Instrumentation, service: string): { collector: CollectingSpanProcessor; handle: InstrumentationHandle } {
  const { collector, tracing } = tracingWithCollector(service);
  const handle = instrument({ tracing, instrumentations: [httpInstrumentation(), framework] });
  assert.deepEqual(handle.enabled, ['http', framework.name]);
  return { collector, handle };
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function get(port: number, paths: readonly string[]): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const path of paths) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    seen.push({ path, status: response.status, contentType: response.headers.get('content-type'), body: await response.text() });
  }
  return seen;
}

/** Server spans, one per path in request order; waits (bounded) for the last ones to end. */
export async function serverSpans(collector: CollectingSpanProcessor, count: number): Promise<Span[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const spans = collector.spans.filter((s) => s.kind === 'server');
    if (spans.length >= count) {
      assert.equal(spans.length, count, `server spans: ${spans.map((s) => s.name).join(', ')}`);
      return spans.sort((a, b) => a.startUs - b.startUs);
    }
    if (Date.now() > deadline) assert.fail(`expected ${count} server spans, got ${spans.length}: ${spans.map((s) => s.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function exceptionMessages(span: Span): unknown[] {
  return span.events.filter((e) => e.name === 'exception').map((e) => e.attributes?.['exception.message']);
}

/** The expectations of one request: span name, http.route (undefined = none), status code, exceptions. */
export interface Expected {
  name: string;
  route: string | undefined;
  status: 'unset' | 'ok' | 'error';
  exceptions: string[];
}

export function assertSpan(span: Span, expected: Expected, path: string): void {
  const label = `${path} → ${span.name}`;
  assert.equal(span.name, expected.name, label);
  assert.equal(span.attributes['http.route'], expected.route, label);
  assert.equal(span.status.code, expected.status, `${label}: status ${JSON.stringify(span.status)}`);
  assert.deepEqual(exceptionMessages(span), expected.exceptions, label);
}

/** Runs `fn` with console.error silenced (Express's default handler logs each 500 with its stack). */
export async function withoutErrorLog<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.error = original;
  }
}

/** 1 MiB of JSON: it reaches the server in several chunks, so a body parser reads it over several events. */
export const LARGE_JSON = JSON.stringify({ filler: 'x'.repeat(1 << 20) });

/** A downstream node:http server; `call(path)` GETs it with `http.get` and resolves with the body. */
export async function startDownstream(): Promise<{ server: Server; call: (path: string) => Promise<string> }> {
  const server = http.createServer((req, res) => res.end(`down${req.url}`));
  const port = await listen(server);
  const call = (path: string): Promise<string> =>
    new Promise((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${port}${path}`, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  return { server, call };
}

/** POSTs LARGE_JSON to `path` (fetch, not traced here); resolves with the status and body. */
export async function postLargeJson(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: LARGE_JSON,
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: await response.text() };
}

/**
 * A call the handler of `frontPath` made downstream (to `downPath`) belongs to the request's trace:
 * downstream server span ← client span ← the framework's server span.
 */
export async function assertDownstreamJoined(collector: CollectingSpanProcessor, frontPath: string, downPath: string): Promise<void> {
  const deadline = Date.now() + 3000;
  const pathOf = (s: Span) => s.attributes['url.path'];
  let spans = collector.spans;
  while (!(spans.some((s) => s.kind === 'server' && pathOf(s) === frontPath) && spans.some((s) => s.kind === 'server' && pathOf(s) === downPath))) {
    if (Date.now() > deadline) assert.fail(`spans of ${frontPath} and ${downPath}: have ${spans.map((s) => `${s.kind}:${String(pathOf(s))}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    spans = collector.spans;
  }
  const front = spans.find((s) => s.kind === 'server' && pathOf(s) === frontPath)!;
  const down = spans.find((s) => s.kind === 'server' && pathOf(s) === downPath)!;
  assert.equal(down.traceId, front.traceId, 'the downstream call started a new trace');
  const client = spans.find((s) => s.spanId === down.parentSpanId);
  assert.equal(client?.kind, 'client');
  assert.equal(client.parentSpanId, front.spanId);
}
