/**
 * bench:sdk — ns per span for start + 10 attributes + end + batch enqueue + export, Linktrace and
 * OpenTelemetry JS (@opentelemetry/sdk-trace-base) in the same run, sampled and unsampled, several
 * interleaved rounds, median reported; and heap bytes per queued span. Each side's exporter encodes
 * every batch as OTLP protobuf with that SDK's own encoder and discards the bytes (BENCH_EXPORTER=noop:
 * exporters that touch nothing, the earlier measurement). Each measurement runs in a fresh worker
 * thread (see sdk-bench-worker.ts).
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CaseResult, CaseSpec } from './sdk-bench-worker.js';
import { median, printResult, printTable } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SPANS_PER_ROUND = Number(process.env.BENCH_SPANS ?? 200_000);
const HEAP_SPANS = 20_000;
const LOAD_START = Math.round(loadavg()[0]! * 10) / 10;
const EXPORTER = exporterKind(process.env.BENCH_EXPORTER ?? 'otlp');

function exporterKind(text: string): CaseSpec['exporter'] {
  if (text !== 'otlp' && text !== 'noop') throw new Error(`BENCH_EXPORTER must be otlp or noop, got ${JSON.stringify(text)}`);
  return text;
}

const CASES: { name: string; spec: Omit<CaseSpec, 'measure' | 'spans' | 'exporter'> }[] = [
  { name: 'linktrace sampled', spec: { sdk: 'linktrace', sampled: true } },
  { name: 'otel sampled', spec: { sdk: 'otel', sampled: true } },
  { name: 'linktrace unsampled', spec: { sdk: 'linktrace', sampled: false } },
  { name: 'otel unsampled', spec: { sdk: 'otel', sampled: false } },
  { name: 'linktrace sampled child', spec: { sdk: 'linktrace', sampled: true, child: true } },
  { name: 'otel sampled child', spec: { sdk: 'otel', sampled: true, child: true } },
];

function runCase(spec: CaseSpec): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./sdk-bench-worker.js', import.meta.url), { workerData: spec });
    worker.once('message', (result: CaseResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`bench worker exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const times = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
  const cpuTimes = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
  let ltExported = 0;
  let ltDropped = 0;
  let otExported = 0;
  let ltBytes = 0;
  let otBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so that neither side always runs on a warmer or cooler machine.
    const order = round % 2 === 0 ? CASES : [...CASES].reverse();
    for (const c of order) {
      const result = await runCase({ ...c.spec, measure: 'time', spans: SPANS_PER_ROUND, exporter: EXPORTER });
      times.get(c.name)!.push(result.value);
      cpuTimes.get(c.name)!.push(result.cpuNs);
      if (c.name === 'linktrace sampled') {
        ltExported += result.exported;
        ltDropped += result.dropped;
        ltBytes += result.encodedBytes;
      }
      if (c.name === 'otel sampled') {
        otExported += result.exported;
        otBytes += result.encodedBytes;
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  process.stderr.write('\n');
  const heap = async (sdk: 'linktrace' | 'otel') =>
    median(await Promise.all([0, 1, 2].map(() => runCase({ sdk, sampled: true, measure: 'heap', spans: HEAP_SPANS, exporter: EXPORTER }).then((r) => r.value))));
  const ltHeap = await heap('linktrace');
  const otHeap = await heap('otel');

  const m = (name: string) => median(times.get(name)!);
  const mc = (name: string) => median(cpuTimes.get(name)!);
  const exporterText =
    EXPORTER === 'otlp'
      ? 'each exporter encodes every batch as OTLP protobuf with its own SDK\'s encoder (Linktrace encodeOtlpProto, OpenTelemetry ProtobufTraceSerializer) and drops the bytes, final flush timed'
      : 'no-op exporters (nothing read or encoded), final flush timed';
  console.log(`bench:sdk — ${ROUNDS} rounds × ${SPANS_PER_ROUND} spans (root spans unless marked child), 10 attributes each, ${exporterText}, each run in a fresh worker`);
  printTable(
    ['case', 'median ns/span', 'min', 'max', 'median CPU ns/span'],
    CASES.map((c) => [c.name, m(c.name), Math.min(...times.get(c.name)!), Math.max(...times.get(c.name)!), mc(c.name)]),
  );
  printTable(
    ['heap per queued span', 'bytes'],
    [
      ['linktrace', Math.round(ltHeap)],
      ['otel', Math.round(otHeap)],
    ],
  );
  console.log(`linktrace batch processor: exported ${ltExported}, dropped ${ltDropped}; otel exporter received ${otExported} (sampled root-span case, timed runs)`);
  if (EXPORTER === 'otlp') {
    console.log(`OTLP protobuf encoded per span: linktrace ${(ltBytes / ltExported).toFixed(1)} bytes, otel ${(otBytes / otExported).toFixed(1)} bytes`);
  }
  const sampledRatio = m('linktrace sampled') / m('otel sampled');
  const childRatio = m('linktrace sampled child') / m('otel sampled child');
  console.log(
    `sampled: linktrace takes ${(sampledRatio * 100).toFixed(1)}% of OpenTelemetry's time (target ≤ 10%); ` +
      `unsampled: ${m('linktrace unsampled').toFixed(1)} ns (target ≤ 50 ns); ` +
      `child spans: ${(childRatio * 100).toFixed(1)}% of OpenTelemetry's time; ` +
      `by CPU time (the steadier figure on a shared machine): sampled ${((mc('linktrace sampled') / mc('otel sampled')) * 100).toFixed(1)}%, child ${((mc('linktrace sampled child') / mc('otel sampled child')) * 100).toFixed(1)}%`,
  );
  printResult({
    linktrace_sampled_ns: round1(m('linktrace sampled')),
    otel_sampled_ns: round1(m('otel sampled')),
    linktrace_unsampled_ns: round1(m('linktrace unsampled')),
    otel_unsampled_ns: round1(m('otel unsampled')),
    sampled_ratio: Number(sampledRatio.toFixed(3)),
    linktrace_sampled_child_ns: round1(m('linktrace sampled child')),
    otel_sampled_child_ns: round1(m('otel sampled child')),
    sampled_child_ratio: Number(childRatio.toFixed(3)),
    linktrace_sampled_cpu_ns: round1(mc('linktrace sampled')),
    otel_sampled_cpu_ns: round1(mc('otel sampled')),
    sampled_cpu_ratio: Number((mc('linktrace sampled') / mc('otel sampled')).toFixed(3)),
    linktrace_sampled_child_cpu_ns: round1(mc('linktrace sampled child')),
    otel_sampled_child_cpu_ns: round1(mc('otel sampled child')),
    sampled_child_cpu_ratio: Number((mc('linktrace sampled child') / mc('otel sampled child')).toFixed(3)),
    linktrace_unsampled_cpu_ns: round1(mc('linktrace unsampled')),
    otel_unsampled_cpu_ns: round1(mc('otel unsampled')),
    load_avg_1m_start: LOAD_START,
    load_avg_1m_end: round1(loadavg()[0]!),
    linktrace_heap_bytes_per_queued_span: Math.round(ltHeap),
    otel_heap_bytes_per_queued_span: Math.round(otHeap),
    linktrace_dropped: ltDropped,
    exporter: EXPORTER,
    ...(EXPORTER === 'otlp' ? { linktrace_otlp_bytes_per_span: round1(ltBytes / ltExported), otel_otlp_bytes_per_span: round1(otBytes / otExported) } : {}),
    rounds: ROUNDS,
    spans_per_round: SPANS_PER_ROUND,
  });
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

await main();
