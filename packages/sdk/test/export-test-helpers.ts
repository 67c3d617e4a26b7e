/** Shared by the export-*.test.ts files: plain model spans, a recording HTTP peer, bounded waits. */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Span } from '@linktrace/model';
import type { ExportResult, Resource, SpanExporter } from '../src/types.js';

export function makeSpan(i: number, overrides: Partial<Span> = {}): Span {
  const hex = i.toString(16).padStart(4, '0');
  return {
    traceId: `0000018f2a3b4c5d0001c0a80001${hex}`,
    spanId: `00000000abcd${hex}`,
    service: 'checkout',
    instance: '10.0.0.1:8080',
    name: `op-${i}`,
    kind: 'server',
    startUs: 1_714_564_800_000_000 + i,
    durationUs: 1500 + i,
    status: { code: 'ok' },
    attributes: { 'linktrace.stage': 'receive', 'http.status_code': 200, 'cache.hit': false },
    events: [],
    links: [],
    ...overrides,
  };
}

export function makeSpans(n: number, from = 0): Span[] {
  return Array.from({ length: n }, (_, k) => makeSpan(from + k));
}

export const RESOURCE: Resource = { service: 'checkout', instance: '10.0.0.1:8080', attributes: { 'deployment.environment': 'test' } };

/** Polls `check` every 5 ms until it is true; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface ExportCall {
  spans: readonly Span[];
  resource: Resource;
  at: number;
}

/**
 * A SpanExporter whose answers the test scripts: `answers` are used in order (the last one repeats);
 * an answer may be a function for full control (e.g. a promise that never settles).
 */
export class ScriptedExporter implements SpanExporter {
  readonly calls: ExportCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  shutdownCalls = 0;

  constructor(private readonly answers: (ExportResult | (() => Promise<ExportResult>))[] = [{ code: 'success' }]) {}

  get spanCount(): number {
    return this.calls.reduce((n, c) => n + c.spans.length, 0);
  }

  async export(spans: readonly Span[], resource: Resource): Promise<ExportResult> {
    this.calls.push({ spans, resource, at: Date.now() });
    const answer = this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)];
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (typeof answer === 'function') return await answer();
      // A real exporter answers later, not synchronously.
      await new Promise((r) => setTimeout(r, 2));
      return answer as ExportResult;
    } finally {
      this.inFlight--;
    }
  }

  shutdown(): Promise<void> {
    this.shutdownCalls++;
    return Promise.resolve();
  }
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Body as sent (still compressed if it was). */
  raw: Buffer;
  /** Body after undoing Content-Encoding: gzip. */
  body: Buffer;
  at: number;
}

export type Responder = (req: RecordedRequest, res: ServerResponse, index: number) => void;

export interface RecordingServer {
  url: (path: string) => string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections: () => number;
  close: () => Promise<void>;
}

/** A real HTTP peer on 127.0.0.1 and a free port; answers 200 `{}` unless told otherwise. */
export async function startRecordingServer(respond?: Responder): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body,
        at: Date.now(),
      };
      requests.push(recorded);
      if (respond) respond(recorded, res, requests.length - 1);
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  // Idle connections stay open far longer than any test: a client that leaks a ref'd socket would hang.
  server.keepAliveTimeout = 60_000;
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
