/**
 * Chain checks are tracer-agnostic: spans from an unmodified OpenTelemetry JS SDK that carry the
 * linktrace.* attributes (DESIGN §3) are checked like our own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { openEmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { advanceAndCheck, manualClock } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

void test('an OpenTelemetry service that received a shop and never wrote it gets a missing-write finding', async () => {
  const dir = tempDir('lt-checker-otel-');
  const store = await openEmbeddedStore({ dataDir: dir });
  const clock = manualClock();
  const app = await buildApp({ store, dataDir: dir, clock: clock.now, checker: { checkDelayMs: 200, maxWaitMs: 5000 } });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'otel-sync-worker' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${address.port}/v1/traces` }))],
    });
    const tracer = provider.getTracer('otel-worker');
    const entity = { 'linktrace.entity.type': 'shop', 'linktrace.entity.key': '42', 'linktrace.entity.version': 7 };
    const consume = tracer.startSpan('consume shop-changed', { kind: SpanKind.CONSUMER, attributes: { 'linktrace.stage': 'consume', ...entity } });
    const receive = tracer.startSpan('receive shop', { attributes: { 'linktrace.stage': 'receive', ...entity } }, trace.setSpan(ROOT_CONTEXT, consume));
    receive.end();
    consume.end();
    await provider.forceFlush();
    await provider.shutdown();
    const traceId = consume.spanContext().traceId;
    // The SDK timed its spans by the wall clock, which ran on meanwhile: a minute later by the
    // server's clock every rule deadline of the trace is over, however slowly this test ran.
    await advanceAndCheck(app, clock, 60_000);
    const findings = await store.findFindings({ traceId });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.rule, 'missing-write');
    assert.equal(findings[0]!.service, 'otel-sync-worker');
    assert.equal(findings[0]!.spanId, receive.spanContext().spanId);
    assert.deepEqual(findings[0]!.entity, { type: 'shop', key: '42', version: '7' });
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
