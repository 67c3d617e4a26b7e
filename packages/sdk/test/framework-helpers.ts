import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
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
