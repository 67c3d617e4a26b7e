/**
 * OTLP/gRPC ingest next to OTLP/HTTP protobuf, with the same request bodies: generated traces cut
 * into export requests (ingest-batches.ts), plain protobuf, encoded before the clock starts. Each
 * round runs one fresh `linktrace serve` per protocol (alternating which goes first, so neither
 * always meets a warmer machine), sends every body with `concurrency` calls in flight (HTTP:
 * keep-alive sockets; gRPC: one grpc-js channel, as an OpenTelemetry exporter uses), honours 429 /
 * RESOURCE_EXHAUSTED, and times until every span is stored. Loopback, bounded. Also the server's CPU
 * seconds per million spans (less sensitive than spans/s to a machine shared with other work) and
 * the load average. Used by bench:grpc and bench:red (issue 13 asks for both figures in one run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { buildBatches, type RequestBody } from './ingest-batches.js';
import { httpRequest, keepAliveAgent, retryAfterSeconds } from './ingest-http.js';
import { metricValue, startServerProcess, type ServerProcess } from './ingest-server.js';
import { threadCpu } from './ingest-threads.js';
import { median } from './stats.js';

export interface CompareOptions {
  spans: number;
  rounds: number;
  concurrency: number;
  /** Flags for the servers' node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  serverNodeArgs: readonly string[];
  log: (line: string) => void;
}

export interface ProtocolSummary {
  /** Medians over the rounds. */
  stored: number;
  acked: number;
  cpu: number;
  refusals: number;
}

export interface Comparison {
  spans: number;
  requests: number;
  http: ProtocolSummary;
  grpc: ProtocolSummary;
  loadMin: number;
  loadMax: number;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const STORE_WAIT_MS = 10 * 60_000;

type Protocol = 'http' | 'grpc';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends one body until it is taken; returns how many refusals (429 / RESOURCE_EXHAUSTED) it met. */
type Send = (body: RequestBody) => Promise<number>;

function httpSender(url: string, concurrency: number): { send: Send; close(): void } {
  const agent = keepAliveAgent(concurrency);
  const target = new URL('/v1/traces', url);
  const send: Send = async (body) => {
    for (let refusals = 0; ; refusals++) {
      const answer = await httpRequest(agent, target, 'POST', { 'content-type': 'application/x-protobuf' }, body.body);
      if (answer.status === 200) return refusals;
      if (answer.status !== 429 && answer.status !== 503) throw new Error(`HTTP ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)}`);
      await sleep(retryAfterSeconds(answer.headers['retry-after'], 1) * 1000);
    }
  };
  return { send, close: () => agent.destroy() };
}

function grpcSender(address: string): { send: Send; close(): void } {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const pass = (b: Buffer): Buffer => b;
  const call = (bytes: Buffer): Promise<{ code: number; details: string }> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(EXPORT_PATH, pass, pass, bytes, new Metadata(), {}, (error) =>
        resolve(error === null ? { code: GrpcStatus.OK, details: '' } : { code: error.code, details: error.details }),
      );
    });
  const send: Send = async (body) => {
    const bytes = Buffer.from(body.body.buffer, body.body.byteOffset, body.body.byteLength);
    for (let refusals = 0; ; refusals++) {
      const answer = await call(bytes);
      if (answer.code === GrpcStatus.OK) return refusals;
      if (answer.code !== GrpcStatus.RESOURCE_EXHAUSTED && answer.code !== GrpcStatus.UNAVAILABLE) throw new Error(`gRPC ${answer.code}: ${answer.details}`);
      await sleep(1000);
    }
  };
  return { send, close: () => client.close() };
}

async function storedSpans(server: ServerProcess): Promise<number> {
  const agent = keepAliveAgent(1);
  try {
    const answer = await httpRequest(agent, new URL('/metrics', server.url), 'GET');
    return metricValue(answer.body.toString('utf8'), 'linktrace_spans_stored_total');
  } finally {
    agent.destroy();
  }
}

const cpuSeconds = (pid: number): number => threadCpu(pid).reduce((sum, t) => sum + t.seconds, 0);

interface Run {
  protocol: Protocol;
  spansPerSecond: number;
  ackedPerSecond: number;
  cpuSecondsPerMillion: number;
  refusals: number;
  load: number;
}

async function runOnce(protocol: Protocol, bodies: readonly RequestBody[], spans: number, options: CompareOptions): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), `linktrace-bench-grpc-${protocol}-`));
  const grpcPort = await freePort();
  const server = await startServerProcess({ dataDir, args: ['--grpc-port', String(grpcPort), '--no-ui'], nodeArgs: [...options.serverNodeArgs] });
  const sender = protocol === 'http' ? httpSender(server.url, options.concurrency) : grpcSender(`127.0.0.1:${grpcPort}`);
  try {
    const cpuStart = cpuSeconds(server.pid);
    const load = loadavg()[0]!;
    const start = process.hrtime.bigint();
    let next = 0;
    let refusals = 0;
    const worker = async (): Promise<void> => {
      while (next < bodies.length) refusals += await sender.send(bodies[next++]!);
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const ackedS = Number(process.hrtime.bigint() - start) / 1e9;
    const deadline = Date.now() + STORE_WAIT_MS;
    while ((await storedSpans(server)) < spans) {
      if (Date.now() > deadline) throw new Error(`${protocol}: the store did not catch up within ${STORE_WAIT_MS} ms`);
      await sleep(20);
    }
    const storedS = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = cpuSeconds(server.pid) - cpuStart;
    return { protocol, spansPerSecond: spans / storedS, ackedPerSecond: spans / ackedS, cpuSecondsPerMillion: (cpu / spans) * 1e6, refusals, load };
  } finally {
    sender.close();
    await server.stop(60_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function compareGrpcHttp(options: CompareOptions): Promise<Comparison> {
  const { spans, rounds, log } = options;
  const now = Date.now() * 1000;
  const set = buildBatches({
    spans,
    seed: 13,
    startUs: now - 3_600_000_000,
    traceGapUs: Math.max(1, Math.floor(3_600_000_000 / (spans / 16))),
    minBatch: 512,
    maxBatch: 2048,
    jsonShare: 0,
    gzipShare: 0,
    maxBodyBytes: 4 * 1024 * 1024,
    samples: 1,
  });
  log(`gRPC vs HTTP: ${set.spans} spans in ${set.bodies.length} protobuf requests (${(set.bodyBytes / 1048576).toFixed(1)} MB), ${rounds} rounds, ${options.concurrency} in flight`);
  const runs: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    const order: Protocol[] = round % 2 === 0 ? ['http', 'grpc'] : ['grpc', 'http'];
    for (const protocol of order) {
      const run = await runOnce(protocol, set.bodies, set.spans, options);
      log(`  round ${round + 1} ${protocol}: ${Math.round(run.spansPerSecond)} spans/s stored, ${run.cpuSecondsPerMillion.toFixed(1)} server CPU s per M spans, load ${run.load.toFixed(1)}`);
      runs.push(run);
    }
  }
  const summary = (protocol: Protocol): ProtocolSummary => {
    const mine = runs.filter((r) => r.protocol === protocol);
    return {
      stored: median(mine.map((r) => r.spansPerSecond)),
      acked: median(mine.map((r) => r.ackedPerSecond)),
      cpu: median(mine.map((r) => r.cpuSecondsPerMillion)),
      refusals: mine.reduce((s, r) => s + r.refusals, 0),
    };
  };
  const loads = runs.map((r) => r.load);
  return { spans: set.spans, requests: set.bodies.length, http: summary('http'), grpc: summary('grpc'), loadMin: Math.min(...loads), loadMax: Math.max(...loads) };
}
