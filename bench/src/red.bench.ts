/**
 * `npm run bench:red`: what RED metrics cost. The ingest bench's realistic traces (BENCH_SPANS
 * spans, default 5 000 000, spread over 24 h) go through the server's RED aggregator and edge finder
 * the way the pipeline's onStored hook feeds them (batches of BENCH_BATCH, default 1 000), and the
 * CPU time of those calls alone is divided by the spans: µs/span to compare with the server's ingest
 * CPU per span (docs/benchmarks.md, bench:ingest). Then the RED query of one service over the whole
 * 24 h (1-minute and 5-minute steps, answer serialised as JSON) is timed BENCH_QUERIES times.
 * Last, OTLP/gRPC ingest next to OTLP/HTTP protobuf (grpc-compare.ts: BENCH_GRPC_SPANS spans per run,
 * default 300 000, BENCH_GRPC_ROUNDS rounds, default 2; `BENCH_GRPC_SPANS=0` skips it), which issue
 * 13 asks to see in the same run. Last line JSON.
 */
import { Registry } from 'prom-client';
import type { Span } from '@linktrace/model';
import { RedMetrics, redPoints } from '@linktrace/server';
import { rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceGenerator } from './ingest-traces.js';
import { compareGrpcHttp } from './grpc-compare.js';
import { envInt, percentile, printResult, printTable } from './stats.js';

const SPANS = Number(process.env.BENCH_SPANS ?? 5_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const GRPC_SPANS = process.env.BENCH_GRPC_SPANS === '0' ? 0 : envInt('BENCH_GRPC_SPANS', 300_000);
const GRPC_ROUNDS = envInt('BENCH_GRPC_ROUNDS', 2);
/** Spans made before each run of RED calls. */
const CHUNK = 200_000;
/** Server CPU per stored span in bench:ingest run 6 (docs/benchmarks.md), the reference for the added cost. */
const INGEST_CPU_US_PER_SPAN = 68.7;
const DAY_US = 24 * 3600 * 1e6;
const AVG_TRACE_SPANS = 16;

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function main(): Promise<void> {
  const endUs = Date.UTC(2026, 11, 7) * 1000;
  const startUs = endUs - DAY_US;
  const gen = new TraceGenerator({ seed: 13, startUs, traceGapUs: DAY_US / (SPANS / AVG_TRACE_SPANS) });
  // The server's clock follows the data: the minute after the newest trace.
  let clockMs = startUs / 1000;
  const dataDir = await mkdtemp(join(tmpdir(), 'linktrace-bench-red-'));
  const red = await RedMetrics.open(dataDir, new Registry(), () => clockMs, (line) => console.error(line));
  let observed = 0;
  let redCpu = 0;
  let batch: Span[] = [];
  const services = new Map<string, number>();
  // Spans are made a chunk at a time, then the garbage collector runs, so that the CPU measured
  // around the RED calls is not the trace generator's garbage being collected.
  const gc = (globalThis as { gc?: () => void }).gc;
  while (observed < SPANS) {
    const chunk: Span[][] = [];
    for (let made = 0; made < CHUNK && observed + made < SPANS; ) {
      batch = [];
      while (batch.length < BATCH) gen.next(batch);
      for (const s of batch) services.set(s.service, (services.get(s.service) ?? 0) + 1);
      chunk.push(batch);
      made += batch.length;
    }
    gc?.();
    for (const b of chunk) {
      clockMs = b[b.length - 1]!.startUs / 1000 + 60_000;
      const before = cpuUs();
      red.observe(b);
      redCpu += cpuUs() - before;
      observed += b.length;
    }
  }
  red.edges.settle(clockMs + 3_600_000);
  const perSpan = redCpu / observed;

  // The busiest service: the query of one service over the 24 h.
  const [service] = [...services].sort((a, b) => b[1] - a[1])[0]!;
  const series = red.aggregator.series({ service });
  const times = (stepUs: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const t0 = performance.now();
      JSON.stringify({ service, step: stepUs, points: redPoints(series, endUs - DAY_US, endUs, stepUs) });
      out.push(performance.now() - t0);
    }
    return out;
  };
  const minute = times(60e6);
  const five = times(300e6);
  const saveStart = performance.now();
  await red.save();
  const saveMs = performance.now() - saveStart;
  await rm(dataDir, { recursive: true, force: true });

  const grpc =
    GRPC_SPANS === 0
      ? undefined
      : await compareGrpcHttp({ spans: GRPC_SPANS, rounds: GRPC_ROUNDS, concurrency: 8, serverNodeArgs: [], log: (line) => void process.stderr.write(`${line}\n`) });

  const cells = [...red.aggregator.services.values()].reduce((n, e) => n + e.all.cells.size + [...e.operations.values()].reduce((m, s) => m + s.cells.size, 0), 0);
  const edgeCells = [...red.aggregator.edges.values()].reduce((n, s) => n + s.cells.size, 0);
  printTable(
    ['measure', 'value'],
    [
      ['spans', observed],
      ['RED CPU µs/span (aggregator + edges + Prometheus histogram)', perSpan.toFixed(2)],
      ['share of ingest CPU (68.7 µs/span, bench:ingest run 6)', `${((perSpan / INGEST_CPU_US_PER_SPAN) * 100).toFixed(1)} %`],
      [`query ${service} 24 h step 1m p50 / p99 ms`, `${percentile(minute, 50).toFixed(2)} / ${percentile(minute, 99).toFixed(2)}`],
      [`query ${service} 24 h step 5m p50 / p99 ms`, `${percentile(five, 50).toFixed(2)} / ${percentile(five, 99).toFixed(2)}`],
      ['service+operation cells / edge cells / edges', `${cells} / ${edgeCells} / ${red.aggregator.edges.size}`],
      ['snapshot save ms', saveMs.toFixed(0)],
      ['heap used MB', (process.memoryUsage().heapUsed / 1e6).toFixed(0)],
      ...(grpc === undefined
        ? []
        : [
            [`ingest spans/s stored, OTLP/HTTP protobuf (median of ${GRPC_ROUNDS})`, Math.round(grpc.http.stored)],
            [`ingest spans/s stored, OTLP/gRPC (median of ${GRPC_ROUNDS})`, Math.round(grpc.grpc.stored)],
            ['load average during the ingest runs', `${grpc.loadMin.toFixed(1)}–${grpc.loadMax.toFixed(1)}`],
          ]),
    ],
  );
  printResult({
    spans: observed,
    red_cpu_us_per_span: Number(perSpan.toFixed(3)),
    red_share_of_ingest_cpu_pct: Number(((perSpan / INGEST_CPU_US_PER_SPAN) * 100).toFixed(2)),
    query_24h_step1m_p50_ms: Number(percentile(minute, 50).toFixed(3)),
    query_24h_step1m_p99_ms: Number(percentile(minute, 99).toFixed(3)),
    query_24h_step5m_p99_ms: Number(percentile(five, 99).toFixed(3)),
    cells,
    edge_cells: edgeCells,
    edges: red.aggregator.edges.size,
    save_ms: Math.round(saveMs),
    ...(grpc === undefined
      ? {}
      : {
          http_spans_per_s: Math.round(grpc.http.stored),
          grpc_spans_per_s: Math.round(grpc.grpc.stored),
          grpc_to_http: Number((grpc.grpc.stored / grpc.http.stored).toFixed(3)),
        }),
  });
}

await main();
