/**
 * bench:sdk — ns per span for start + 10 attributes + end + batch enqueue with a no-op exporter,
 * Linktrace and OpenTelemetry JS (@opentelemetry/sdk-trace-base) side by side in one process,
 * sampled and unsampled, several interleaved rounds, median reported. Also heap bytes per queued span.
 */
import { context as otelContext } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor as OtelBatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter as OtelSpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { BatchSpanProcessor, alwaysOff, alwaysOn, createTracing, noopExporter } from '@linktrace/sdk';
import { median, printResult, printTable } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SPANS_PER_ROUND = Number(process.env.BENCH_SPANS ?? 100_000);
const CHUNK = 500;
const HEAP_SPANS = 20_000;

interface AnySpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  end(): void;
}
type StartFn = () => AnySpan;

const TEN_ATTRIBUTES = `
  span.setAttribute('http.request.method', 'GET');
  span.setAttribute('http.route', '/shops/:id');
  span.setAttribute('http.response.status_code', 200);
  span.setAttribute('server.address', 'shop-query');
  span.setAttribute('server.port', 8080);
  span.setAttribute('user.id', 'u-12345');
  span.setAttribute('shop.id', '42');
  span.setAttribute('linktrace.stage', 'write');
  span.setAttribute('linktrace.entity.version', i);
  span.setAttribute('cache.hit', true);`;

type ChunkRunner = (start: StartFn, count: number) => void;

/**
 * Each case gets its own copy of the measured loop (compiled from source), so that one SDK's span
 * class never makes the other's call sites polymorphic: each side is measured as an application
 * that uses only that SDK would run it.
 */
function makeChunkRunner(): ChunkRunner {
   
  return new Function('start', 'count', `for (let i = 0; i < count; i++) { const span = start(); ${TEN_ATTRIBUTES} span.end(); }`) as ChunkRunner;
}

/** Runs `count` spans in chunks, yielding between chunks so that batch processors can flush. */
async function runSpans(runChunk: ChunkRunner, start: StartFn, count: number): Promise<number> {
  const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += CHUNK) {
    runChunk(start, CHUNK);
    await yieldToLoop();
  }
  return Number(process.hrtime.bigint() - t0) / count;
}

class OtelNoopExporter implements OtelSpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function linktraceStarter(sampled: boolean, queue?: { maxQueueSize: number; maxBatchSize: number; scheduleDelayMs: number }) {
  const processor = new BatchSpanProcessor(noopExporter(), queue);
  const tracing = createTracing({ service: 'bench', sampler: sampled ? alwaysOn() : alwaysOff(), processors: [processor] });
  const tracer = tracing.getTracer('bench');
  return { start: () => tracer.startSpan('GET /shops/:id', { parent: null }), processor, tracing };
}

function otelStarter(sampled: boolean, queue?: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMillis: number }) {
  const exporter = new OtelNoopExporter();
  const processor = new OtelBatchSpanProcessor(exporter, queue);
  const provider = new BasicTracerProvider({
    sampler: sampled ? new AlwaysOnSampler() : new AlwaysOffSampler(),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('bench');
  const root = otelContext.active();
  return { start: () => tracer.startSpan('GET /shops/:id', undefined, root), exporter, provider };
}

function heapUsedAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:sdk does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap growth per span held in a batch queue that does not flush during the measurement. */
function heapPerQueuedSpan(make: () => { start: StartFn; keep: unknown }): number {
  const { start, keep } = make();
  const runChunk = makeChunkRunner();
  const before = heapUsedAfterGc();
  runChunk(start, HEAP_SPANS);
  const after = heapUsedAfterGc();
  if (keep === undefined) throw new Error('unreachable');
  return (after - before) / HEAP_SPANS;
}

async function main(): Promise<void> {
  const lt = linktraceStarter(true);
  const ot = otelStarter(true);
  const ltOff = linktraceStarter(false);
  const otOff = otelStarter(false);
  const cases: [string, StartFn, ChunkRunner][] = [
    ['linktrace sampled', lt.start, makeChunkRunner()],
    ['otel sampled', ot.start, makeChunkRunner()],
    ['linktrace unsampled', ltOff.start, makeChunkRunner()],
    ['otel unsampled', otOff.start, makeChunkRunner()],
  ];
  const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  // One warm-up round lets both JITs settle; it is not counted.
  for (const [, start, runChunk] of cases) await runSpans(runChunk, start, SPANS_PER_ROUND / 4);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so that neither side always runs on a warmer or cooler machine.
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const [name, start, runChunk] of order) results.get(name)!.push(await runSpans(runChunk, start, SPANS_PER_ROUND));
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  process.stderr.write('\n');
  await lt.processor.forceFlush();
  await ot.provider.forceFlush();
  const ltStats = lt.processor.stats();

  const bigQueue = { maxQueueSize: HEAP_SPANS * 2, maxBatchSize: HEAP_SPANS * 2, scheduleDelayMs: 3_600_000 };
  const ltHeap = heapPerQueuedSpan(() => {
    const s = linktraceStarter(true, bigQueue);
    return { start: s.start, keep: s.processor };
  });
  const otHeap = heapPerQueuedSpan(() => {
    const s = otelStarter(true, { maxQueueSize: HEAP_SPANS * 2, maxExportBatchSize: HEAP_SPANS * 2, scheduledDelayMillis: 3_600_000 });
    return { start: s.start, keep: s.provider };
  });

  const m = (name: string) => median(results.get(name)!);
  const rows = cases.map(([name]) => {
    const values = results.get(name)!;
    return [name, m(name), Math.min(...values), Math.max(...values)];
  });
  console.log(`bench:sdk — ${ROUNDS} rounds × ${SPANS_PER_ROUND} root spans, 10 attributes each, no-op exporter`);
  printTable(['case', 'median ns/span', 'min', 'max'], rows);
  printTable(
    ['heap per queued span', 'bytes'],
    [
      ['linktrace', Math.round(ltHeap)],
      ['otel', Math.round(otHeap)],
    ],
  );
  console.log(
    `linktrace batch processor: exported ${ltStats.exported}, dropped ${ltStats.dropped}; otel exporter received ${ot.exporter.exported}`,
  );
  const sampledRatio = m('linktrace sampled') / m('otel sampled');
  console.log(
    `sampled: linktrace takes ${(sampledRatio * 100).toFixed(1)}% of OpenTelemetry's time (target ≤ 10%); unsampled: ${m('linktrace unsampled').toFixed(1)} ns (target ≤ 50 ns)`,
  );
  printResult({
    linktrace_sampled_ns: round1(m('linktrace sampled')),
    otel_sampled_ns: round1(m('otel sampled')),
    linktrace_unsampled_ns: round1(m('linktrace unsampled')),
    otel_unsampled_ns: round1(m('otel unsampled')),
    sampled_ratio: Number(sampledRatio.toFixed(3)),
    linktrace_heap_bytes_per_queued_span: Math.round(ltHeap),
    otel_heap_bytes_per_queued_span: Math.round(otHeap),
    linktrace_dropped: ltStats.dropped,
    rounds: ROUNDS,
    spans_per_round: SPANS_PER_ROUND,
  });
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

await main();
