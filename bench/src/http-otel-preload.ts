/**
 * bench:http's OpenTelemetry case, loaded with `--import` before the hello-world server: the
 * recommended Node setup — NodeTracerProvider (AsyncLocalStorage context), always-on sampling,
 * BatchSpanProcessor with its defaults, OTLP/HTTP protobuf exporter — and the http instrumentation
 * registered through `registerInstrumentations`. Spans go to the same `linktrace serve` as
 * Linktrace's (`BENCH_OTLP_URL`). On the way out (beforeExit) the provider is shut down, which
 * exports what is still queued.
 */
import { createRequire } from 'node:module';
import { AlwaysOnSampler, BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

const url = process.env.BENCH_OTLP_URL;
if (url === undefined) throw new Error('BENCH_OTLP_URL is not set');

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.BENCH_SERVICE ?? 'bench-otel' }),
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
});
provider.register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
// The instrumentation patches `http` when it is required; an ES module's `import 'node:http'` does
// not go through require, so load it once here (the server then gets the patched module object).
createRequire(import.meta.url)('node:http');

let shutDown = false;
process.on('beforeExit', () => {
  if (shutDown) return;
  shutDown = true;
  void provider.shutdown();
});
