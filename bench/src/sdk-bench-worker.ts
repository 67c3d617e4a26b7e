/**
 * One measurement of bench:sdk, run in its own worker thread so that each SDK and each sampling mode
 * gets a fresh JIT: no call site in the measured code ever sees the other SDK's classes or the other
 * sampling path, as in an application that uses only one of them.
 *
 * The exporters (`exporter: 'otlp'`, the default) do what each SDK's own OTLP/HTTP protobuf
 * exporter does before the network, and nothing else: Linktrace's `encodeOtlpProto(spans,
 * resource.attributes)` (as `otlpHttpExporter`), OpenTelemetry's
 * `ProtobufTraceSerializer.serializeRequest(spans)` (as `OTLPTraceExporter` of
 * exporter-trace-otlp-proto), then they count the bytes and drop them. So every attribute of every
 * span is read and encoded on both sides: work Linktrace defers to export (redaction and folding of
 * repeated keys, when `attributes` is first read) is counted as OpenTelemetry's eager work is.
 * `exporter: 'noop'` keeps the earlier measurement (exporters that touch nothing).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { context as otelContext, trace as otelTrace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor as OtelBatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter as OtelSpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { encodeOtlpProto } from '@linktrace/model';
import { BatchSpanProcessor, alwaysOff, alwaysOn, createTracing, noopExporter, type ExportResult, type SpanExporter } from '@linktrace/sdk';

export interface CaseSpec {
  sdk: 'linktrace' | 'otel';
  sampled: boolean;
  /** Spans start under a parent span of the same trace (the common case) instead of as new traces. */
  child?: boolean;
  /** 'time': ns per span over `spans`; 'heap': heap bytes per span held in a queue that never flushes. */
  measure: 'time' | 'heap';
  spans: number;
  /** 'otlp': each SDK's own OTLP protobuf encoding of every batch; 'noop': exporters that touch nothing. */
  exporter: 'otlp' | 'noop';
}

export interface CaseResult {
  value: number;
  /** CPU time (user + system, every thread of the process) per span, ns; NaN for the heap measure. */
  cpuNs: number;
  exported: number;
  dropped: number;
  /** Bytes of OTLP protobuf the exporter encoded (0 with the no-op exporter). */
  encodedBytes: number;
}

interface AnySpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  end(): void;
}
type StartFn = () => AnySpan;

/** Sampled spans per chunk: below the default queue size (2048) of both batch processors. */
const CHUNK = 500;
/** Unsampled spans reach no processor: longer chunks keep the event-loop yield out of the figure. */
const UNSAMPLED_CHUNK = 20_000;

function runChunk(start: StartFn, count: number): void {
  for (let i = 0; i < count; i++) {
    const span = start();
    span.setAttribute('http.request.method', 'GET');
    span.setAttribute('http.route', '/shops/:id');
    span.setAttribute('http.response.status_code', 200);
    span.setAttribute('server.address', 'shop-query');
    span.setAttribute('server.port', 8080);
    span.setAttribute('user.id', 'u-12345');
    span.setAttribute('shop.id', '42');
    span.setAttribute('linktrace.stage', 'write');
    span.setAttribute('linktrace.entity.version', i);
    span.setAttribute('cache.hit', true);
    span.end();
  }
}

/** OpenTelemetry's side: with `encode`, what OTLPTraceExporter (proto) does before sending. */
class OtelBenchExporter implements OtelSpanExporter {
  exported = 0;
  encodedBytes = 0;
  constructor(private readonly encode: boolean) {}
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    if (this.encode) this.encodedBytes += ProtobufTraceSerializer.serializeRequest(spans)?.byteLength ?? 0;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const SUCCESS: Promise<ExportResult> = Promise.resolve({ code: 'success' });

/** Linktrace's side: what otlpHttpExporter (protobuf) does before sending. */
function linktraceEncodingExporter(): SpanExporter & { encodedBytes: number } {
  const exporter = {
    encodedBytes: 0,
    export: (spans: Parameters<SpanExporter['export']>[0], resource: Parameters<SpanExporter['export']>[1]): Promise<ExportResult> => {
      exporter.encodedBytes += encodeOtlpProto(spans, resource.attributes).byteLength;
      return SUCCESS;
    },
    shutdown: (): Promise<void> => Promise.resolve(),
  };
  return exporter;
}

interface Setup {
  start: StartFn;
  flush(): Promise<void>;
  counts(): { exported: number; dropped: number; encodedBytes: number };
}

function setup(spec: CaseSpec): Setup {
  const holdAll = spec.measure === 'heap';
  if (spec.sdk === 'linktrace') {
    const encoding = spec.exporter === 'otlp' ? linktraceEncodingExporter() : undefined;
    const processor = new BatchSpanProcessor(
      encoding ?? noopExporter(),
      // The heap case holds its spans on purpose: their loss at exit is not worth the SDK's summary line.
      holdAll ? { maxQueueSize: spec.spans * 2, maxBatchSize: spec.spans * 2, scheduleDelayMs: 3_600_000, flushOnExit: false, onError: () => {} } : {},
    );
    const tracing = createTracing({ service: 'bench', sampler: spec.sampled ? alwaysOn() : alwaysOff(), processors: [processor] });
    const tracer = tracing.getTracer('bench');
    const parentSpan = tracer.startSpan('parent', { parent: null });
    const options = spec.child ? { parent: parentSpan } : { parent: null };
    return {
      start: () => tracer.startSpan('GET /shops/:id', options),
      flush: () => processor.forceFlush(),
      counts: () => ({ exported: processor.stats().exported, dropped: processor.stats().dropped, encodedBytes: encoding?.encodedBytes ?? 0 }),
    };
  }
  const exporter = new OtelBenchExporter(spec.exporter === 'otlp');
  const processor = new OtelBatchSpanProcessor(
    exporter,
    holdAll ? { maxQueueSize: spec.spans * 2, maxExportBatchSize: spec.spans * 2, scheduledDelayMillis: 3_600_000 } : {},
  );
  const provider = new BasicTracerProvider({
    sampler: spec.sampled ? new AlwaysOnSampler() : new AlwaysOffSampler(),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('bench');
  const root = otelContext.active();
  const parentContext = spec.child ? otelTrace.setSpan(root, tracer.startSpan('parent', undefined, root)) : root;
  return {
    start: () => tracer.startSpan('GET /shops/:id', undefined, parentContext),
    flush: () => provider.forceFlush(),
    counts: () => ({ exported: exporter.exported, dropped: 0, encodedBytes: exporter.encodedBytes }),
  };
}

/**
 * ns per span, the final flush included: every span's export work falls inside the timed window.
 * Wall time, and CPU time of the process: on a shared machine the wall clock also counts the time
 * other processes held the core, CPU time does not (the main thread waits idle meanwhile).
 */
async function timeSpans(s: Setup, count: number, chunk: number): Promise<{ wallNs: number; cpuNs: number }> {
  const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += chunk) {
    runChunk(s.start, chunk);
    await yieldToLoop();
  }
  await s.flush();
  const wallNs = Number(process.hrtime.bigint() - t0) / count;
  const c = process.cpuUsage(c0);
  return { wallNs, cpuNs: ((c.user + c.system) * 1000) / count };
}

function heapUsedAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:sdk does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function run(spec: CaseSpec): Promise<CaseResult> {
  const s = setup(spec);
  if (spec.measure === 'heap') {
    runChunk(s.start, 1000); // warm up the code, then measure a fresh batch held in the queue
    await s.flush();
    const before = heapUsedAfterGc();
    runChunk(s.start, spec.spans);
    const after = heapUsedAfterGc();
    return { value: (after - before) / spec.spans, cpuNs: NaN, ...s.counts() };
  }
  const chunk = spec.sampled ? CHUNK : UNSAMPLED_CHUNK;
  await timeSpans(s, Math.max(chunk, Math.floor(spec.spans / 4)), chunk); // warm-up, not counted
  const warm = s.counts();
  const { wallNs: ns, cpuNs } = await timeSpans(s, spec.spans, chunk);
  const end = s.counts();
  return { value: ns, cpuNs, exported: end.exported - warm.exported, dropped: end.dropped - warm.dropped, encodedBytes: end.encodedBytes - warm.encodedBytes };
}

if (parentPort) {
  const result = await run(workerData as CaseSpec);
  parentPort.postMessage(result);
}
