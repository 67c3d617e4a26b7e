/**
 * bench:http — a hello-world `node:http` server under autocannon load, five ways in the same run:
 * bare; traced by Linktrace (`--import @linktrace/sdk/register`, always-on sampling); traced by
 * OpenTelemetry JS (sdk-trace-node + instrumentation-http, BatchSpanProcessor, OTLP/HTTP protobuf).
 * Each tracer runs twice: exporting to one local `linktrace serve` started here (`linktrace`,
 * `otel`: what a deployment with the collector on the same cores pays), and exporting to a minimal
 * sink that answers without decoding (`linktrace_sink`, `otel_sink`, http-sink.ts: the tracer's
 * own cost, the collector's taken out). Every case runs in a fresh
 * process per round (patches are process-wide), after a warm-up; rounds interleave the cases and
 * rotate their order; medians are reported. After each traced case the server's received-span
 * counter is read once the collector is idle (every span stored) and compared with the
 * requests answered (the sink counts the spans of each body without decoding them), so a tracer
 * that silently drops spans shows up as drops instead of as speed.
 *
 * Each case is measured twice per round: first at a fixed, unsaturated request rate (the server's
 * CPU per request there is the steadier figure on a shared machine: it does not depend on how the
 * cores are shared out), then flat out (end-to-end req/s).
 *
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION (s per measurement, 10), BENCH_WARMUP (s, 3),
 * BENCH_CONNECTIONS (50), BENCH_RATE (req/s of the fixed-rate measurement, 2000; `off` skips it),
 * BENCH_PIN (`1`: the server on CPU 0, autocannon, the collector and the sink on CPU 1, in every case),
 * BENCH_PROFILE=linktrace|otel|bare (`--cpu-prof` on that case's server, profiles written to
 * BENCH_PROFILE_DIR, default <tmp>/linktrace-bench-http-profiles), BENCH_CASES (comma list of
 * bare, linktrace, otel, linktrace_sink, otel_sink; default all five).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinProcess } from './cpu-pin.js';
import { cpuMs, load, startHello, startSink, type HelloServer, type LoadResult } from './http-load.js';
import { metricValue, startServerProcess, type ServerProcess } from './ingest-server.js';
import { median, printResult, printTable } from './stats.js';

type CaseName = 'bare' | 'linktrace' | 'otel' | 'linktrace_sink' | 'otel_sink';

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 3));
const DURATION = Math.round(envNumber('BENCH_DURATION', 10));
const WARMUP = Math.round(envNumber('BENCH_WARMUP', 3));
const CONNECTIONS = Math.round(envNumber('BENCH_CONNECTIONS', 50));
const RATE = process.env.BENCH_RATE === 'off' ? undefined : Math.round(envNumber('BENCH_RATE', 2000));
const PIN = process.env.BENCH_PIN === '1';
/** CPU lists under BENCH_PIN: the server alone on one core, load generator and collector on the other. */
const SERVER_CPUS = PIN ? '0' : undefined;
const OTHER_CPUS = PIN ? '1' : undefined;
const PROFILE = process.env.BENCH_PROFILE;
const ALL_CASES: CaseName[] = ['bare', 'linktrace', 'otel', 'linktrace_sink', 'otel_sink'];
const CASES = (process.env.BENCH_CASES ?? ALL_CASES.join(',')).split(',').map((c) => {
  if (!ALL_CASES.includes(c as CaseName)) throw new Error(`BENCH_CASES: unknown case ${c}`);
  return c as CaseName;
});
const OTEL_PRELOAD = fileURLToPath(new URL('./http-otel-preload.js', import.meta.url));
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ?? join(tmpdir(), 'linktrace-bench-http-profiles');

interface Round {
  load: LoadResult;
  /** Server process CPU per answered request during the measurement, µs. */
  cpuUsPerRequest: number;
  /** CPU of the case's receiver (linktrace serve, or the sink) per answered request during the measurement, µs. */
  receiverCpuUsPerRequest: number;
  /** The fixed-rate measurement (absent with BENCH_RATE=off). */
  fixed?: LoadResult;
  /** Server process CPU per answered request at the fixed rate, µs (NaN without it). */
  fixedCpuUsPerRequest: number;
  /** Requests answered over the process's life (warm-up + measurements). */
  answered: number;
  /** Spans the case's receiver got from this process. */
  arrived: number;
}

/** Where a traced case's spans go: `linktrace serve`, or the sink that only counts them. */
interface Receiver {
  url: string;
  pid: number;
  /** Spans received so far, and a value that changes whenever the receiver did any work. */
  state(): Promise<{ received: number; activity: string }>;
}

function collectorReceiver(server: ServerProcess): Receiver {
  return {
    url: server.url,
    pid: server.pid,
    async state() {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const value = (name: string): number => {
        const v = metricValue(text, name);
        return Number.isNaN(v) ? 0 : v;
      };
      const received = value('linktrace_spans_received_total');
      return { received, activity: `${received}/${value('linktrace_spans_stored_total')}` };
    },
  };
}

function sinkReceiver(sink: HelloServer): Receiver {
  return {
    url: sink.url,
    pid: sink.pid,
    async state() {
      const s = (await (await fetch(`${sink.url}/stats`)).json()) as { requests: number; spans: number; uncounted: number };
      if (s.uncounted > 0) throw new Error(`the sink could not count the spans of ${s.uncounted} request(s) (not plain OTLP protobuf)`);
      return { received: s.spans, activity: `${s.requests}/${s.spans}` };
    },
  };
}

function caseSetup(name: CaseName, receiver: string): { nodeArgs: string[]; env: NodeJS.ProcessEnv } {
  const base: NodeJS.ProcessEnv = { ...process.env, OTEL_TRACES_SAMPLER: 'always_on' };
  const profile = PROFILE === name ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  switch (name) {
    case 'bare':
      return { nodeArgs: profile, env: base };
    case 'linktrace':
    case 'linktrace_sink':
      return { nodeArgs: [...profile, '--import', '@linktrace/sdk/register'], env: { ...base, LINKTRACE_SERVICE: 'bench-linktrace', LINKTRACE_ENDPOINT: receiver } };
    case 'otel':
    case 'otel_sink':
      return { nodeArgs: [...profile, '--import', OTEL_PRELOAD], env: { ...base, BENCH_OTLP_URL: `${receiver}/v1/traces`, BENCH_SERVICE: 'bench-otel' } };
  }
}

/**
 * Waits until the receiver is idle — no change for 1.5 s (at most 60 s) — so that its work for
 * one case never runs during the next; returns the received-span counter.
 */
async function settledReceived(receiver: Receiver): Promise<number> {
  const deadline = Date.now() + 60_000;
  let last = await receiver.state();
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await receiver.state();
    if (now.activity !== last.activity) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 1500) {
      break;
    }
  }
  if (Date.now() >= deadline) process.stderr.write('  receiver still busy after 60 s; going on\n');
  return last.received;
}

async function runCase(name: CaseName, server: Receiver, label: string): Promise<Round> {
  const before = await settledReceived(server);
  const { nodeArgs, env } = caseSetup(name, server.url);
  const hello = await startHello(nodeArgs, env, label, SERVER_CPUS);
  let answered = 0;
  let measured: LoadResult;
  let fixed: LoadResult | undefined;
  let fixedCpu = NaN;
  let cpu: number;
  let receiverCpu: number;
  try {
    const warm = await load(hello.url, CONNECTIONS, WARMUP, undefined, OTHER_CPUS);
    answered += warm.completed;
    if (RATE !== undefined) {
      const fixed0 = cpuMs(hello.pid);
      fixed = await load(hello.url, CONNECTIONS, DURATION, RATE, OTHER_CPUS);
      fixedCpu = cpuMs(hello.pid) - fixed0;
      answered += fixed.completed;
    }
    const cpu0 = cpuMs(hello.pid);
    const receiver0 = cpuMs(server.pid);
    measured = await load(hello.url, CONNECTIONS, DURATION, undefined, OTHER_CPUS);
    cpu = cpuMs(hello.pid) - cpu0;
    receiverCpu = cpuMs(server.pid) - receiver0;
    answered += measured.completed;
  } finally {
    const how = await hello.stop(20_000);
    if (how !== 0) process.stderr.write(`  [${label}] server process ended with ${how}\n`);
  }
  const arrived = (await settledReceived(server)) - before;
  return {
    load: measured,
    cpuUsPerRequest: (cpu * 1000) / measured.completed,
    receiverCpuUsPerRequest: (receiverCpu * 1000) / measured.completed,
    fixed,
    fixedCpuUsPerRequest: fixed === undefined ? NaN : (fixedCpu * 1000) / fixed.completed,
    answered,
    arrived,
  };
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-http-'));
  // The chain checker is kept out of the run (no trace is due within it): its cost per trace would
  // land in whichever case runs next, and bench:checker measures it on its own.
  const server = await startServerProcess({ dataDir, args: ['--check-delay', '20m', '--max-wait', '20m'] });
  if (OTHER_CPUS !== undefined) pinProcess(server.pid, OTHER_CPUS);
  const collector = collectorReceiver(server);
  let sinkProcess: HelloServer | undefined;
  const results = new Map<CaseName, Round[]>(CASES.map((c) => [c, []]));
  try {
    sinkProcess = CASES.some((c) => c.endsWith('_sink')) ? await startSink('sink', OTHER_CPUS) : undefined;
    const sink = sinkProcess === undefined ? undefined : sinkReceiver(sinkProcess);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so no case always runs first (coolest machine) or right after a flush.
      const order = CASES.map((_, i) => CASES[(i + round) % CASES.length]!);
      for (const name of order) {
        const label = `${name} r${round + 1}`;
        const r = await runCase(name, name.endsWith('_sink') ? sink! : collector, label);
        results.get(name)!.push(r);
        const fixedText = r.fixed === undefined ? '' : `at ${r.fixed.rps.toFixed(0)} req/s server CPU ${r.fixedCpuUsPerRequest.toFixed(1)} µs/req; flat out `;
        process.stderr.write(
          `  ${label}: ${fixedText}${r.load.rps.toFixed(0)} req/s, p99 ${r.load.p99Ms} ms, server CPU ${r.cpuUsPerRequest.toFixed(1)} µs/req, ` +
            `${name.endsWith('_sink') ? 'sink' : 'collector'} CPU ${r.receiverCpuUsPerRequest.toFixed(1)} µs/req, answered ${r.answered}, spans arrived ${r.arrived}\n`,
        );
      }
    }
  } finally {
    await sinkProcess?.stop(10_000);
    await server.stop(30_000);
    await rm(dataDir, { recursive: true, force: true });
  }

  const med = (name: CaseName, pick: (r: Round) => number): number => {
    const rounds = results.get(name);
    return rounds === undefined || rounds.length === 0 ? NaN : median(rounds.map(pick));
  };
  const sum = (name: CaseName, pick: (r: Round) => number): number => (results.get(name) ?? []).reduce((a, r) => a + pick(r), 0);
  const bareRps = med('bare', (r) => r.load.rps);
  const bareFixedCpu = med('bare', (r) => r.fixedCpuUsPerRequest);

  console.log(
    `bench:http — hello-world node:http server, autocannon -c ${CONNECTIONS}, ${ROUNDS} rounds × ${DURATION} s per case after a ${WARMUP} s warm-up, ` +
      `each case a fresh process; linktrace and otel export to a local linktrace serve, the *_sink cases to a sink that discards bodies; ` +
      (RATE === undefined ? '' : `server CPU also measured at a fixed ${RATE} req/s for ${DURATION} s before the flat-out run; `) +
      (PIN ? 'pinned: server on CPU 0, autocannon, collector and sink on CPU 1; ' : 'not pinned (all processes share both cores); ') +
      `1-min load average ${loadStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
  );
  printTable(
    ['case', 'median req/s', 'vs bare', 'p99 ms', 'p50 ms', 'server CPU µs/req', 'collector/sink CPU µs/req', `req/s held (${RATE ?? '-'} asked)`, `CPU µs/req @${RATE ?? '-'}/s`, 'bare/case CPU', 'req/s per round', 'answered', 'spans arrived', 'dropped', 'errors'],
    CASES.map((name) => {
      const answered = sum(name, (r) => r.answered);
      const arrived = sum(name, (r) => r.arrived);
      return [
        name,
        Math.round(med(name, (r) => r.load.rps)),
        `${((med(name, (r) => r.load.rps) / bareRps) * 100).toFixed(1)} %`,
        med(name, (r) => r.load.p99Ms),
        med(name, (r) => r.load.p50Ms),
        med(name, (r) => r.cpuUsPerRequest),
        med(name, (r) => r.receiverCpuUsPerRequest),
        RATE === undefined ? '-' : Math.round(med(name, (r) => r.fixed?.rps ?? NaN)),
        RATE === undefined ? '-' : med(name, (r) => r.fixedCpuUsPerRequest),
        RATE === undefined || !results.has('bare') ? '-' : `${((bareFixedCpu / med(name, (r) => r.fixedCpuUsPerRequest)) * 100).toFixed(1)} %`,
        results.get(name)!.map((r) => Math.round(r.load.rps)).join(' / '),
        answered,
        name === 'bare' ? '-' : arrived,
        name === 'bare' ? '-' : Math.max(0, answered - arrived),
        sum(name, (r) => r.load.errors + r.load.non2xx),
      ];
    }),
  );
  const out: Record<string, number | string | boolean> = { rounds: ROUNDS, duration_s: DURATION, connections: CONNECTIONS, fixed_rate: RATE ?? 0, pinned: PIN, load_start: Number(loadStart.toFixed(1)), load_end: Number(loadavg()[0]!.toFixed(1)) };
  for (const name of CASES) {
    const answered = sum(name, (r) => r.answered);
    const arrived = sum(name, (r) => r.arrived);
    out[`${name}_rps`] = Math.round(med(name, (r) => r.load.rps));
    out[`${name}_p99_ms`] = med(name, (r) => r.load.p99Ms);
    out[`${name}_cpu_us_per_req`] = Number(med(name, (r) => r.cpuUsPerRequest).toFixed(1));
    if (RATE !== undefined) {
      out[`${name}_fixed_rps`] = Math.round(med(name, (r) => r.fixed?.rps ?? NaN));
      out[`${name}_fixed_cpu_us_per_req`] = Number(med(name, (r) => r.fixedCpuUsPerRequest).toFixed(1));
    }
    if (RATE !== undefined && name !== 'bare' && results.has('bare')) {
      out[`${name}_cpu_ratio`] = Number((bareFixedCpu / med(name, (r) => r.fixedCpuUsPerRequest)).toFixed(3));
    }
    if (name !== 'bare') {
      out[`${name}_ratio`] = Number((med(name, (r) => r.load.rps) / bareRps).toFixed(3));
      out[`${name}_requests`] = answered;
      out[`${name}_spans_arrived`] = arrived;
      out[`${name}_dropped`] = Math.max(0, answered - arrived);
    }
  }
  if (results.has('linktrace') && results.has('otel')) {
    out['linktrace_vs_otel'] = Number((med('linktrace', (r) => r.load.rps) / med('otel', (r) => r.load.rps)).toFixed(3));
  }
  const fixedCpu = (name: CaseName): number => med(name, (r) => r.fixedCpuUsPerRequest);
  if (RATE !== undefined && results.has('linktrace_sink') && results.has('otel_sink')) {
    out['linktrace_sink_vs_otel_sink_cpu'] = Number((fixedCpu('linktrace_sink') / fixedCpu('otel_sink')).toFixed(3));
    if (results.has('bare')) {
      out['linktrace_sink_vs_otel_sink_overhead'] = Number(((fixedCpu('linktrace_sink') - bareFixedCpu) / (fixedCpu('otel_sink') - bareFixedCpu)).toFixed(3));
    }
    console.log(
      `With the sink, server CPU per request at ${RATE} req/s: Linktrace ${fixedCpu('linktrace_sink').toFixed(1)} µs, OpenTelemetry ${fixedCpu('otel_sink').toFixed(1)} µs ` +
        `(Linktrace/OpenTelemetry ${((fixedCpu('linktrace_sink') / fixedCpu('otel_sink')) * 100).toFixed(1)} %, target ≤ 50 %)` +
        (results.has('bare')
          ? `; above bare (${bareFixedCpu.toFixed(1)} µs): +${(fixedCpu('linktrace_sink') - bareFixedCpu).toFixed(1)} against +${(fixedCpu('otel_sink') - bareFixedCpu).toFixed(1)} µs ` +
            `(${(((fixedCpu('linktrace_sink') - bareFixedCpu) / (fixedCpu('otel_sink') - bareFixedCpu)) * 100).toFixed(1)} %)`
          : ''),
    );
  }
  if (results.has('linktrace') && results.has('bare')) {
    const ratio = med('linktrace', (r) => r.load.rps) / bareRps;
    const cpuRatio = bareFixedCpu / med('linktrace', (r) => r.fixedCpuUsPerRequest);
    const cpuText = RATE === undefined ? '' : `; server CPU per request at ${RATE} req/s: bare ${bareFixedCpu.toFixed(1)} µs, Linktrace ${med('linktrace', (r) => r.fixedCpuUsPerRequest).toFixed(1)} µs (bare/Linktrace ${(cpuRatio * 100).toFixed(1)} %)`;
    console.log(`With linktrace serve as the collector, Linktrace keeps ${(ratio * 100).toFixed(1)} % of bare throughput end to end (target ≥ 90 %)${cpuText}${PROFILE === undefined ? '' : `; CPU profile of the ${PROFILE} server in ${PROFILE_DIR}`}`);
  }
  printResult(out);
}

await main();
