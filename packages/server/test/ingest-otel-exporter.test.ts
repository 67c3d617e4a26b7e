/**
 * Interop: an unmodified OpenTelemetry JS SDK with its OTLP/HTTP protobuf exporter sends to the
 * server (with the bearer token, plain and gzip), and the spans are found through the store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { withEmbeddedApp } from './ingest-helpers.js';

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>['compression']>;
const TOKEN = 'otel-interop';

describe('OpenTelemetry JS exporter interop', () => {
  for (const compression of ['none', 'gzip'] as Compression[]) {
    it(`OTLPTraceExporter (protobuf, compression ${compression}) delivers spans that read back complete`, async () => {
      await withEmbeddedApp({ token: TOKEN }, async ({ app, store, url }) => {
        const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` }, compression });
        const provider = new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': 'otel-checkout', 'deployment.environment': 'test' }),
          spanProcessors: [new BatchSpanProcessor(exporter)],
        });
        const tracer = provider.getTracer('interop-test', '1.2.3');
        const before = Date.now() * 1000;
        const other = tracer.startSpan('background job');
        other.end();
        const root = tracer.startSpan('GET /checkout', {
          kind: SpanKind.SERVER,
          attributes: { 'http.method': 'GET', 'http.status_code': 200, 'linktrace.stage': 'receive', ratio: 0.25, tags: ['a', 'b'] },
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
        await provider.forceFlush();
        await provider.shutdown();
        await app.linktrace.pipeline.idle();

        const traceId = root.spanContext().traceId;
        const spans = await store.getTrace(traceId);
        assert.equal(spans.length, 2, 'both spans of the trace were stored');
        const r = spans.find((s) => s.spanId === root.spanContext().spanId);
        const c = spans.find((s) => s.spanId === child.spanContext().spanId);
        assert.ok(r !== undefined && c !== undefined);
        assert.equal(r.service, 'otel-checkout');
        assert.equal(r.name, 'GET /checkout');
        assert.equal(r.kind, 'server');
        assert.equal(r.parentSpanId, undefined);
        assert.deepEqual(r.attributes, { 'http.method': 'GET', 'http.status_code': 200, 'linktrace.stage': 'receive', ratio: 0.25, tags: ['a', 'b'] });
        assert.equal(r.resource?.['deployment.environment'], 'test');
        assert.equal(r.scope?.name, 'interop-test');
        assert.equal(r.scope?.version, '1.2.3');
        assert.ok(r.startUs >= before - 1000 && r.startUs <= Date.now() * 1000, 'start time in µs since the epoch');
        assert.ok(r.durationUs !== undefined && r.durationUs >= 0);
        assert.equal(c.parentSpanId, r.spanId);
        assert.equal(c.kind, 'client');
        assert.deepEqual(c.status, { code: 'error', message: 'deadlock' });
        assert.equal(c.events.length, 1);
        assert.equal(c.events[0].name, 'retry');
        assert.deepEqual(c.events[0].attributes, { attempt: 2 });
        assert.deepEqual(
          c.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes })),
          [{ traceId: other.spanContext().traceId, spanId: other.spanContext().spanId, attributes: { reason: 'batch' } }],
        );
        const others = await store.getTrace(other.spanContext().traceId);
        assert.equal(others.length, 1);
        assert.equal(others[0].name, 'background job');
      });
    });
  }

  it('a wrong token makes the exporter fail, and nothing is stored', async () => {
    await withEmbeddedApp({ token: TOKEN }, async ({ app, store, url }) => {
      const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces`, headers: { authorization: 'Bearer wrong' } });
      const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
      const span = provider.getTracer('t').startSpan('refused');
      span.end();
      // forceFlush rejects with the list of its processors' errors.
      await assert.rejects(provider.forceFlush(), (thrown: unknown) => {
        const error = (Array.isArray(thrown) ? (thrown as unknown[])[0] : thrown) as { code?: unknown; data?: unknown };
        assert.equal(error.code, 401);
        assert.match(String(error.data), /"code":"unauthorized"/);
        return true;
      });
      await provider.shutdown().catch(() => undefined);
      await app.linktrace.pipeline.idle();
      assert.deepEqual(await store.getTrace(span.spanContext().traceId), []);
      assert.equal(app.linktrace.wal.stats().records, 0);
    });
  });
});
