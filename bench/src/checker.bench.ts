/**
 * bench:checker — spans per second through the streaming checker core (TraceBuffer grouping, due
 * scan, take, checkTrace with every built-in rule and one flow contract) on one thread, and heap
 * bytes per open trace. Traces of 5–50 spans, 30 % of spans carrying linktrace stages, spans of
 * neighbouring traces interleaved as a collector receives them. Span objects are made before the
 * clock starts: decoding is the receivers' cost, not the checker's.
 */
import type { Span, SpanKind } from '@linktrace/model';
import { TraceBuffer, checkTrace, type CheckOptions, type FlowContract } from '@linktrace/analysis';
import { median, printResult, printTable } from './stats.js';
import { Random } from './ingest-random.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TRACES = Number(process.env.BENCH_TRACES ?? 20_000);
const HEAP_TRACES = 10_000;
const BATCH = 1_000;
/** Simulated arrival clock: one batch per ms; a trace is checked after 50 ms of quiet. */
const BATCH_US = 1_000;
const CHECK_DELAY_MS = 50;
const STAGE_SHARE = 0.3;

const SERVICES = ['merchant-api', 'sync-worker', 'shop-query', 'billing', 'search-indexer'];
const TARGETS = ['mysql:user_shop', 'redis:shop_cache', 'http:shop-query', 'mq:shop-changed', 'memory:shop_cache'];
const KINDS: SpanKind[] = ['server', 'client', 'internal', 'producer', 'consumer'];

/** Deterministic (the ingest benchmark's mulberry32) so that every run checks the same traces. */
function rng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function makeTraces(count: number, seed: number): Span[][] {
  const r = rng(seed);
  const t0 = 1_700_000_000_000_000;
  const traces: Span[][] = [];
  for (let t = 0; t < count; t++) {
    const traceId = hex(t0 / 1000 + t, 16) + hex(seed, 8) + hex(t, 8);
    const size = 5 + Math.floor(r() * 46);
    const spans: Span[] = [];
    const startUs = t0 + t * 1000;
    for (let i = 0; i < size; i++) {
      const parent = i === 0 ? -1 : Math.floor(r() * i);
      const p = parent >= 0 ? spans[parent]! : undefined;
      const crosses = p === undefined || r() < 0.2;
      const service = crosses ? SERVICES[Math.floor(r() * SERVICES.length)]! : p.service;
      const attributes: Span['attributes'] = { 'http.method': 'PUT', 'net.peer.port': 443 };
      if (r() < STAGE_SHARE) {
        const roll = r();
        const stage = roll < 0.3 ? 'receive' : roll < 0.8 ? 'write' : roll < 0.9 ? 'enqueue' : 'process';
        attributes['linktrace.stage'] = stage;
        attributes['linktrace.entity.type'] = 'shop';
        attributes['linktrace.entity.key'] = String(t % 997);
        attributes['linktrace.entity.version'] = 7;
        if (stage === 'write' || stage === 'enqueue') attributes['linktrace.target'] = TARGETS[Math.floor(r() * TARGETS.length)]!;
      }
      const start = p === undefined ? startUs : p.startUs + 1 + Math.floor(r() * 1000);
      const span: Span = {
        traceId,
        spanId: hex(t, 8) + hex(i, 8),
        rpcid: p === undefined ? '0' : `${p.rpcid!}.${i}`,
        service,
        name: `op-${i % 7}`,
        kind: KINDS[Math.floor(r() * KINDS.length)]!,
        startUs: start,
        durationUs: 100 + Math.floor(r() * 5000),
        status: { code: r() < 0.02 ? 'error' : 'unset' },
        attributes,
        events: [],
        links: [],
      };
      if (p !== undefined) span.parentSpanId = p.spanId;
      spans.push(span);
    }
    traces.push(spans);
  }
  return traces;
}

/** Arrival order: traces in order, each trace's spans spread over a window shared with its neighbours. */
function interleave(traces: Span[][], seed: number): Span[] {
  const r = rng(seed);
  const out: Span[] = traces.flat();
  const window = 2_000;
  for (let i = 0; i < out.length; i++) {
    const j = Math.min(out.length - 1, i + Math.floor(r() * window));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

const FLOW: FlowContract = {
  name: 'shop-sync',
  match: { entityType: 'shop' },
  deadlineMs: 5_000,
  steps: [
    { service: 'merchant-api', stage: 'enqueue', target: 'mq:shop-changed' },
    { service: 'sync-worker', stage: 'write', target: 'mysql:user_shop' },
    { service: 'shop-query', stage: 'write', target: 'memory:shop_cache' },
  ],
};
const OPTIONS: CheckOptions = { deadlineMs: 30_000, slowChainObjectiveMs: 2_000, flows: [FLOW] };

interface RunResult {
  seconds: number;
  traces: number;
  findings: Map<string, number>;
  maxOpen: number;
}

function run(arrivals: Span[]): RunResult {
  const buffer = new TraceBuffer({ checkDelayMs: CHECK_DELAY_MS, maxOpenTraces: 1_000_000 });
  const findings = new Map<string, number>();
  let traces = 0;
  let maxOpen = 0;
  // Spans are checked long after they started: the arrival clock is offset past every deadline.
  const checkNowUs = 1_800_000_000_000_000;
  const check = (id: string): void => {
    const t = buffer.take(id)!;
    traces++;
    for (const f of checkTrace(t.spans, OPTIONS, checkNowUs)) findings.set(f.rule, (findings.get(f.rule) ?? 0) + 1);
  };
  const began = process.hrtime.bigint();
  let now = 0;
  for (let i = 0; i < arrivals.length; i += BATCH) {
    now += BATCH_US;
    buffer.add(arrivals.slice(i, i + BATCH), now);
    for (const id of buffer.due(now)) check(id);
    const open = buffer.stats().openTraces;
    if (open > maxOpen) maxOpen = open;
  }
  now += CHECK_DELAY_MS * 1000;
  for (const id of buffer.due(now)) check(id);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  return { seconds, traces, findings, maxOpen };
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:checker does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap per open trace: everything an open trace keeps alive (its spans too), the buffer's own part,
 * and what the buffer alone keeps once the decoded spans it was given are let go (as the server lets
 * go of a request's spans once they are stored).
 */
function measureHeap(): { total: number; buffer: number; held: number; spansPerTrace: number } {
  const base = heapUsed();
  const traces = makeTraces(HEAP_TRACES, 99);
  const spans = traces.flat();
  const withSpans = heapUsed();
  const buffer = new TraceBuffer({ maxOpenTraces: 1_000_000 });
  for (let i = 0; i < spans.length; i += BATCH) buffer.add(spans.slice(i, i + BATCH), 1);
  const withBuffer = heapUsed();
  if (buffer.stats().openTraces !== HEAP_TRACES) throw new Error('heap: not every trace is open');
  const spansPerTrace = spans.length / HEAP_TRACES;
  traces.length = 0;
  spans.length = 0;
  const held = (heapUsed() - base) / HEAP_TRACES;
  if (buffer.stats().openTraces !== HEAP_TRACES) throw new Error('heap: not every trace is open');
  return { total: (withBuffer - base) / HEAP_TRACES, buffer: (withBuffer - withSpans) / HEAP_TRACES, held, spansPerTrace };
}

function main(): void {
  const traces = makeTraces(TRACES, 1);
  const arrivals = interleave(traces, 2);
  const spans = arrivals.length;
  const staged = arrivals.filter((s) => s.attributes['linktrace.stage'] !== undefined).length;
  run(arrivals); // warm-up: let the JIT settle
  const rates: number[] = [];
  let last: RunResult | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    last = run(arrivals);
    if (last.traces !== TRACES) throw new Error(`checked ${last.traces} traces, expected ${TRACES}`);
    rates.push(spans / last.seconds);
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  process.stderr.write('\n');
  const heap = measureHeap();
  const rate = median(rates);

  console.log(`bench:checker — ${TRACES} traces, ${spans} spans (${((100 * staged) / spans).toFixed(1)} % with a stage), ${ROUNDS} rounds, median`);
  printTable(
    ['figure', 'value'],
    [
      ['spans/s through TraceBuffer + checkTrace', Math.round(rate)],
      ['traces/s', Math.round((rate * TRACES) / spans)],
      ['slowest / fastest round spans/s', `${Math.round(Math.min(...rates))} / ${Math.round(Math.max(...rates))}`],
      ['most traces open at once', last!.maxOpen],
      ['heap bytes per open trace (its spans included)', Math.round(heap.total)],
      ['  of which TraceBuffer bookkeeping', Math.round(heap.buffer)],
      ['  spans per trace in the heap sample', Number(heap.spansPerTrace.toFixed(1))],
      ['heap bytes the buffer keeps per open trace (decoded spans let go)', Math.round(heap.held)],
    ],
  );
  console.log('');
  printTable(['rule', 'findings per run'], [...last!.findings.entries()].sort().map(([rule, n]) => [rule, n]));
  printResult({
    checker_spans_per_s: Math.round(rate),
    bytes_per_open_trace: Math.round(heap.total),
    buffer_bytes_per_open_trace: Math.round(heap.buffer),
    held_bytes_per_open_trace: Math.round(heap.held),
    traces: TRACES,
    spans,
    stage_share: Number((staged / spans).toFixed(3)),
    rounds: ROUNDS,
  });
}

main();
