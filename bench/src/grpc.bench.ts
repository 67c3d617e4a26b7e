/**
 * bench:grpc — OTLP/gRPC ingest next to OTLP/HTTP protobuf in the same run (grpc-compare.ts).
 * Progress on stderr; a table, then one JSON line, on stdout.
 *
 * Environment: BENCH_SPANS (per run, default 300 000), BENCH_ROUNDS (2), BENCH_CONCURRENCY (8),
 * BENCH_SERVER_NODE_ARGS (flags for the servers' node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { compareGrpcHttp } from './grpc-compare.js';
import { envInt, printResult, printTable } from './stats.js';

const SPANS = envInt('BENCH_SPANS', 300_000);
const ROUNDS = envInt('BENCH_ROUNDS', 2);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 8);
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');

async function main(): Promise<void> {
  const result = await compareGrpcHttp({
    spans: SPANS,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    serverNodeArgs: SERVER_NODE_ARGS,
    log: (line) => void process.stderr.write(`${line}\n`),
  });
  const { http, grpc } = result;
  printTable(
    ['protocol (median of rounds)', 'spans/s stored', 'spans/s acked', 'server CPU s / M spans', 'refusals'],
    [
      ['OTLP/HTTP protobuf', Math.round(http.stored), Math.round(http.acked), Number(http.cpu.toFixed(1)), http.refusals],
      ['OTLP/gRPC', Math.round(grpc.stored), Math.round(grpc.acked), Number(grpc.cpu.toFixed(1)), grpc.refusals],
    ],
  );
  console.log(`load average (1 min) during the runs: ${result.loadMin.toFixed(1)}–${result.loadMax.toFixed(1)}`);
  printResult({
    spans: result.spans,
    requests: result.requests,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    httpSpansPerSecond: Math.round(http.stored),
    grpcSpansPerSecond: Math.round(grpc.stored),
    grpcToHttp: Number((grpc.stored / http.stored).toFixed(3)),
    httpCpuSecondsPerMillion: Number(http.cpu.toFixed(2)),
    grpcCpuSecondsPerMillion: Number(grpc.cpu.toFixed(2)),
    loadMin: Number(result.loadMin.toFixed(2)),
    loadMax: Number(result.loadMax.toFixed(2)),
  });
}

await main();
