/**
 * Interop: an unmodified @opentelemetry/exporter-trace-otlp-grpc sends to `linktrace serve`'s gRPC port
 * (token in the metadata, plain and gzip); the spans read back from the store equal those the
 * OTLP/HTTP protobuf exporter delivers for the same SDK spans. Also: serve's banner, a wrong token,
 * and the default port taken.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanStore } from '@linktrace/storage';
import { parseServeFlags, startServer, type RunningServer } from '../src/cli/serve.js';
import { comparable, tempDir, withApp } from './ingest-helpers.js';
import { freePort } from './grpc-helpers.js';

const TOKEN = 'grpc-interop';

/** SDK spans of two traces: a server span with a client child (event, link, error status), and a lone span. */
function recordSpans(): { spans: ReadableSpan[]; traceIds: string[] } {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otel-grpc-checkout', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('grpc-interop-test', '4.5.6');
  const other = tracer.startSpan('background job');
  other.end();
  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'http.status_code': 200, ratio: 0.25, tags: ['a', 'b'], big: 2 ** 40 },
  });
  const child = tracer.startSpan(
    'INSERT orders',
    { kind: SpanKind.CLIENT, attributes: { 'linktrace.stage': 'write', 'linktrace.target': 'mysql:orders' }, links: [{ context: other.spanContext(), attributes: { reason: 'batch' } }] },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  child.addEvent('retry', { attempt: 2 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock' });
  child.end();
  root.end();
  return { spans: memory.getFinishedSpans(), traceIds: [root.spanContext().traceId, other.spanContext().traceId] };
}

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function metadataWithToken(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

async function withServe(fn: (server: RunningServer, lines: string[]) => Promise<void>): Promise<void> {
  const dataDir = await tempDir('lt-grpc-serve-');
  const lines: string[] = [];
  const grpcPort = String(await freePort());
  const server = await startServer(parseServeFlags({ port: '0', grpcPort, data: dataDir, token: TOKEN, ui: false }), {
    print: (l) => lines.push(l),
    warn: (l) => lines.push(l),
  });
  try {
    await fn(server, lines);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sortById = (spans: Record<string, unknown>[]): Record<string, unknown>[] => spans.sort((a, b) => String(a.spanId).localeCompare(String(b.spanId)));

describe('OpenTelemetry JS gRPC exporter interop', () => {
  it('exporter-trace-otlp-grpc (plain and gzip) into linktrace serve: spans read back equal the OTLP/HTTP protobuf ones', async () => {
    const { spans, traceIds } = recordSpans();
    // The reference: the same SDK spans through the OTLP/HTTP protobuf exporter.
    const viaHttp: Record<string, unknown>[][] = [];
    await withApp({}, async ({ app, store, url }) => {
      const result = await exportWith(new ProtoTraceExporter({ url: `${url}/v1/traces` }), spans);
      assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
      await app.linktrace.pipeline.idle();
      for (const id of traceIds) viaHttp.push(sortById(store.getTrace(id).map(comparable)));
    });
    assert.deepEqual(viaHttp.map((t) => t.length), [2, 1]);

    await withServe(async (server, lines) => {
      assert.ok(server.grpcAddress !== undefined);
      assert.ok(lines[0]!.includes(`OTLP/gRPC  http://${server.grpcAddress}`), lines[0]);
      for (const compression of ['none', 'gzip'] as const) {
        const exporter = new GrpcTraceExporter({ url: `http://${server.grpcAddress}`, metadata: metadataWithToken(TOKEN), compression: compression as never });
        const result = await exportWith(exporter, spans);
        assert.equal(result.code, ExportResultCode.SUCCESS, `${compression}: ${String(result.error)}`);
        await exporter.shutdown();
        await server.app.linktrace.pipeline.idle();
        for (let i = 0; i < traceIds.length; i++) {
          const stored = await (server.store as SpanStore).getTrace(traceIds[i]!);
          assert.deepEqual(sortById(stored.map(comparable)), viaHttp[i], `${compression}: trace ${traceIds[i]}`);
        }
      }
      const root = (await (server.store as SpanStore).getTrace(traceIds[0]!)).find((s) => s.name === 'GET /checkout');
      assert.equal(root?.service, 'otel-grpc-checkout');
      assert.equal(root?.resource?.['deployment.environment'], 'test');
      assert.equal(root?.scope?.version, '4.5.6');
      const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
      assert.match(metrics, /linktrace_spans_received_total\{receiver="otlp-grpc"\} 6/);
    });
  });

  it('a wrong token: the exporter fails with UNAUTHENTICATED and nothing is logged or stored', async () => {
    const { spans, traceIds } = recordSpans();
    await withServe(async (server) => {
      const exporter = new GrpcTraceExporter({ url: `http://${server.grpcAddress}`, metadata: metadataWithToken('wrong') });
      const result = await exportWith(exporter, spans);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal((result.error as { code?: number }).code, GrpcStatus.UNAUTHENTICATED);
      assert.equal(server.app.linktrace.wal.stats().records, 0);
      assert.deepEqual(await (server.store as SpanStore).getTrace(traceIds[0]!), []);
    });
  });

  it('--grpc-port: when the default port is taken serve warns and runs without gRPC; an explicit port taken fails the start', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const dataDir = await tempDir('lt-grpc-port-');
    try {
      const lines: string[] = [];
      const options = { ...parseServeFlags({ port: '0', data: dataDir, ui: false }), grpcPort: port };
      assert.equal(options.grpcPortDefault, true);
      const server = await startServer(options, { print: (l) => lines.push(l), warn: (l) => lines.push(l) });
      try {
        assert.equal(server.grpcAddress, undefined);
        assert.match(lines.join('\n'), new RegExp(`OTLP/gRPC  off: port ${port} is in use`));
        assert.match(lines.join('\n'), /OTLP\/gRPC receiver not started: port \d+ is in use; pass --grpc-port/);
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      } finally {
        await server.close();
      }
      await assert.rejects(
        startServer(parseServeFlags({ port: '0', grpcPort: String(port), data: dataDir, ui: false }), { print: () => undefined, warn: () => undefined }),
        new RegExp(`OTLP/gRPC on port ${port}: .*EADDRINUSE`),
      );
      const off = await startServer(parseServeFlags({ port: '0', grpcPort: '0', data: dataDir, ui: false }), { print: (l) => lines.push(l), warn: () => undefined });
      await off.close();
      assert.match(lines.at(-1)!, /OTLP\/gRPC {2}off \(--grpc-port 0\)/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
