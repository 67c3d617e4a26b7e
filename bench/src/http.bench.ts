/**
 * bench:http — a hello-world `node:http` server under autocannon load, five ways in the same run:
 * `bare`; traced by Linktrace (`--import @linktrace/sdk/register`, always-on sampling); traced by
 * OpenTelemetry JS (sdk-trace-node + instrumentation-http, BatchSpanProcessor, OTLP/HTTP protobuf).
 * Each tracer runs twice: exporting to a minimal sink that answers without decoding
 * (`linktrace_sink`, `otel_sink`, http-sink.ts: the tracer's own cost, the collector's taken out),
 * and exporting to one local `linktrace serve` started here (`linktrace_serve`, `otel_serve`: what
 * a deployment with the collector on the same cores pays). Every case runs in a fresh process per
 * round (patches are process-wide), after a warm-up; rounds interleave the cases and rotate their
 * order (A B C D E, B C D E A, …) so that a machine whose load drifts charges every case alike;
 * medians are reported. After each traced case the receiver's span counter is read once it is idle
 * (every span stored) and compared with the requests answered (the sink counts the spans of each
 * body without decoding them), so a tracer that silently drops spans shows up as drops instead of
 * as speed.
 *
 * Each case is measured twice per round: first at a fixed, unsaturated request rate — the server
 * process's CPU per request there (user + system, from /proc, every thread) is the steady figure on
 * a shared machine: it does not depend on how the cores are shared out — then flat out (end-to-end
 * req/s).
 *
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION (s per measurement, 10), BENCH_WARMUP (s, 3),
 * BENCH_CONNECTIONS (50), BENCH_RATE (req/s of the fixed-rate measurement, 2000; `off` skips it),
 * BENCH_PIN (`1`: the server on CPU 0, autocannon, the collector and the sink on CPU 1, in every case),
 * BENCH_PROFILE=<case> (`--cpu-prof` on that case's server, profiles written to BENCH_PROFILE_DIR,
 * default <tmp>/linktrace-bench-http-profiles), BENCH_CASES (comma list of bare, linktrace_sink,
 * otel_sink, linktrace_serve, otel_serve, linktrace_sink_alt; default the first five; `linktrace` and
 * `otel` are read as the `_serve` cases), BENCH_ALT_REGISTER (the module the `linktrace_sink_alt`
 * case loads with `--import` instead of `@linktrace/sdk/register`: another build of the SDK, for an
 * interleaved before/after comparison in one run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinProcess } from './cpu-pin.js';
import { cpuMs, load, startHello, startSink, type HelloServer, type LoadResult } from './http-load.js';
import { metricValue, startServerProcess, type ServerProcess } from './ingest-server.js';
import { median, printResult, printTable } from './stats.js';

type CaseName = 'bare' | 'linktrace_sink' | 'otel_sink' | 'linktrace_serve' | 'otel_serve' | 'linktrace_sink_alt';

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
const DEFAULT_CASES: CaseName[] = ['bare', 'linktrace_sink', 'otel_sink', 'linktrace_serve', 'otel_serve'];
const KNOWN_CASES: CaseName[] = [...DEFAULT_CASES, 'linktrace_sink_alt'];
/** Names of the collector cases before the sink cases existed, still accepted. */
const OLD_NAMES: Record<string, CaseName> = { linktrace: 'linktrace_serve', otel: 'otel_serve' };
const CASES = (process.env.BENCH_CASES ?? DEFAULT_CASES.join(',')).split(',').map((text) => {
  const c = OLD_NAMES[text] ?? text;
  if (!KNOWN_CASES.includes(c as CaseName)) throw new Error(`BENCH_CASES: unknown case ${text} (known: ${KNOWN_CASES.join(', ')})`);
  return c as CaseName;
});
const ALT_REGISTER = process.env.BENCH_ALT_REGISTER;
if (CASES.includes('linktrace_sink_alt') && (ALT_REGISTER === undefined || ALT_REGISTER === '')) {
  throw new Error('the linktrace_sink_alt case needs BENCH_ALT_REGISTER (path of another build\'s register.js)');
}
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

function isSinkCase(name: CaseName): boolean {
  return name === 'linktrace_sink' || name === 'otel_sink' || name === 'linktrace_sink_alt';
}

function caseSetup(name: CaseName, receiver: string): { nodeArgs: string[]; env: NodeJS.ProcessEnv } {
  const base: NodeJS.ProcessEnv = { ...process.env, OTEL_TRACES_SAMPLER: 'always_on' };
  const profile = PROFILE === name ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const linktraceEnv = { ...base, LINKTRACE_SERVICE: 'bench-linktrace', LINKTRACE_ENDPOINT: receiver };
  switch (name) {
    case 'bare':
      return { nodeArgs: profile, env: base };
    case 'linktrace_serve':
    case 'linktrace_sink':
      return { nodeArgs: [...profile, '--import', '@linktrace/sdk/register'], env: linktraceEnv };
    case 'linktrace_sink_alt':
      return { nodeArgs: [...profile, '--import', ALT_REGISTER!], env: linktraceEnv };
    case 'otel_serve':
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

async function runCase(name: CaseName, server: Receiver | undefined, label: string): Promise<Round> {
  const before = server === undefined ? 0 : await settledReceived(server);
  const { nodeArgs, env } = caseSetup(name, server?.url ?? '');
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
    const receiver0 = server === undefined ? NaN : cpuMs(server.pid);
    measured = await load(hello.url, CONNECTIONS, DURATION, undefined, OTHER_CPUS);
    cpu = cpuMs(hello.pid) - cpu0;
    receiverCpu = server === undefined ? NaN : cpuMs(server.pid) - receiver0;
    answered += measured.completed;
  } finally {
    const how = await hello.stop(20_000);
    if (how !== 0) process.stderr.write(`  [${label}] server process ended with ${how}\n`);
  }
  const arrived = server === undefined ? 0 : (await settledReceived(server)) - before;
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

/** Human names of the cases, for the table. */
const CASE_LABEL: Record<CaseName, string> = {
  bare: 'bare',
  linktrace_sink: 'Linktrace → sink',
  otel_sink: 'OpenTelemetry → sink',
  linktrace_serve: 'Linktrace → linktrace serve',
  otel_serve: 'OpenTelemetry → linktrace serve',
  linktrace_sink_alt: 'Linktrace (BENCH_ALT_REGISTER) → sink',
};

/** Targets of issue 12 item 6. */
const TARGET_RPS_RATIO_SERVE = 0.9;
const TARGET_CPU_RATIO_SINK = 0.5;

async function main(): Promise<void> {
  const loadStart = loadavg();
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-http-'));
  let server: ServerProcess | undefined;
  let sinkProcess: HelloServer | undefined;
  const results = new Map<CaseName, Round[]>(CASES.map((c) => [c, []]));
  try {
    // The chain checker is kept out of the run (no trace is due within it): its cost per trace would
    // land in whichever case runs next, and bench:checker measures it on its own.
    if (CASES.some((c) => c.endsWith('_serve'))) {
      server = await startServerProcess({ dataDir, args: ['--check-delay', '20m', '--max-wait', '20m'] });
      if (OTHER_CPUS !== undefined) pinProcess(server.pid, OTHER_CPUS);
    }
    const collector = server === undefined ? undefined : collectorReceiver(server);
    sinkProcess = CASES.some(isSinkCase) ? await startSink('sink', OTHER_CPUS) : undefined;
    const sink = sinkProcess === undefined ? undefined : sinkReceiver(sinkProcess);
    // Nothing to send spans to for bare: any receiver's counter serves (it does not change).
    const idle = collector ?? sink;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so no case always runs first (coolest machine) or right after a flush.
      const order = CASES.map((_, i) => CASES[(i + round) % CASES.length]!);
      for (const name of order) {
        const label = `${name} r${round + 1}`;
        const receiver = name === 'bare' ? idle : isSinkCase(name) ? sink : collector;
        const r = await runCase(name, receiver, label);
        results.get(name)!.push(r);
        const fixedText = r.fixed === undefined ? '' : `at ${r.fixed.rps.toFixed(0)} req/s server CPU ${r.fixedCpuUsPerRequest.toFixed(1)} µs/req; flat out `;
        process.stderr.write(
          `  ${label}: ${fixedText}${r.load.rps.toFixed(0)} req/s, p99 ${r.load.p99Ms} ms, server CPU ${r.cpuUsPerRequest.toFixed(1)} µs/req, ` +
            `${isSinkCase(name) ? 'sink' : 'collector'} CPU ${r.receiverCpuUsPerRequest.toFixed(1)} µs/req, answered ${r.answered}, spans arrived ${r.arrived}, ` +
            `load average ${loadavg()[0]!.toFixed(1)}\n`,
        );
      }
    }
  } finally {
    await sinkProcess?.stop(10_000);
    await server?.stop(30_000);
    await rm(dataDir, { recursive: true, force: true });
  }
  const loadEnd = loadavg();

  const med = (name: CaseName, pick: (r: Round) => number): number => {
    const rounds = results.get(name);
    return rounds === undefined || rounds.length === 0 ? NaN : median(rounds.map(pick));
  };
  const sum = (name: CaseName, pick: (r: Round) => number): number => (results.get(name) ?? []).reduce((a, r) => a + pick(r), 0);
  const has = (name: CaseName): boolean => results.has(name);
  const rps = (name: CaseName): number => med(name, (r) => r.load.rps);
  /** The CPU figure compared: at the fixed rate (the steady one), or flat out with BENCH_RATE=off. */
  const cpu = (name: CaseName): number => med(name, (r) => (RATE === undefined ? r.cpuUsPerRequest : r.fixedCpuUsPerRequest));
  const round3 = (n: number): number => Number(n.toFixed(3));
  const round1 = (n: number): number => Number(n.toFixed(1));
  const cpuWhere = RATE === undefined ? 'flat out' : `at ${RATE} req/s`;

  console.log(
    `bench:http — hello-world node:http server, autocannon -c ${CONNECTIONS}, ${ROUNDS} rounds × ${DURATION} s per case after a ${WARMUP} s warm-up, ` +
      `each case a fresh process, cases interleaved and rotated per round; *_sink cases export to a sink that discards bodies, *_serve cases to a local linktrace serve; ` +
      (RATE === undefined ? '' : `server CPU measured at a fixed ${RATE} req/s for ${DURATION} s before the flat-out run; `) +
      (PIN ? 'pinned: server on CPU 0, autocannon, collector and sink on CPU 1; ' : 'not pinned (all processes share both cores); ') +
      `load average (1/5/15 min) ${loadStart.map((l) => l.toFixed(1)).join('/')} at start, ${loadEnd.map((l) => l.toFixed(1)).join('/')} at end`,
  );
  printTable(
    ['case', 'exports to', 'median req/s', 'vs bare', 'p99 ms', `server CPU µs/req ${cpuWhere}`, 'bare/case CPU', 'server CPU µs/req flat out', 'receiver CPU µs/req', `req/s held (${RATE ?? '-'} asked)`, 'req/s per round', `CPU µs/req per round`, 'answered', 'spans arrived', 'dropped', 'errors'],
    CASES.map((name) => {
      const answered = sum(name, (r) => r.answered);
      const arrived = sum(name, (r) => r.arrived);
      return [
        CASE_LABEL[name],
        name === 'bare' ? '-' : isSinkCase(name) ? 'sink' : 'linktrace serve',
        Math.round(rps(name)),
        has('bare') ? `${((rps(name) / rps('bare')) * 100).toFixed(1)} %` : '-',
        med(name, (r) => r.load.p99Ms),
        cpu(name),
        has('bare') ? `${((cpu('bare') / cpu(name)) * 100).toFixed(1)} %` : '-',
        med(name, (r) => r.cpuUsPerRequest),
        med(name, (r) => r.receiverCpuUsPerRequest),
        RATE === undefined ? '-' : Math.round(med(name, (r) => r.fixed?.rps ?? NaN)),
        results.get(name)!.map((r) => Math.round(r.load.rps)).join(' / '),
        results.get(name)!.map((r) => (RATE === undefined ? r.cpuUsPerRequest : r.fixedCpuUsPerRequest).toFixed(1)).join(' / '),
        answered,
        name === 'bare' ? '-' : arrived,
        name === 'bare' ? '-' : Math.max(0, answered - arrived),
        sum(name, (r) => r.load.errors + r.load.non2xx),
      ];
    }),
  );

  const out: Record<string, number | string | boolean> = {
    rounds: ROUNDS,
    duration_s: DURATION,
    connections: CONNECTIONS,
    fixed_rate: RATE ?? 0,
    cpu_measured_at: RATE === undefined ? 'flat_out' : 'fixed_rate',
    pinned: PIN,
    load_avg_1m_start: round1(loadStart[0]!),
    load_avg_1m_end: round1(loadEnd[0]!),
    load_avg_5m_end: round1(loadEnd[1]!),
  };
  for (const name of CASES) {
    out[`${name}_rps`] = Math.round(rps(name));
    out[`${name}_p99_ms`] = med(name, (r) => r.load.p99Ms);
    out[`${name}_cpu_us_per_req`] = round1(cpu(name));
    out[`${name}_flat_cpu_us_per_req`] = round1(med(name, (r) => r.cpuUsPerRequest));
    if (RATE !== undefined) out[`${name}_fixed_rps`] = Math.round(med(name, (r) => r.fixed?.rps ?? NaN));
    if (name === 'bare') continue;
    out[`${name}_receiver_cpu_us_per_req`] = round1(med(name, (r) => r.receiverCpuUsPerRequest));
    if (has('bare')) {
      out[`rps_ratio_${name}_vs_bare`] = round3(rps(name) / rps('bare'));
      out[`cpu_ratio_bare_vs_${name}`] = round3(cpu('bare') / cpu(name));
    }
    const answered = sum(name, (r) => r.answered);
    const arrived = sum(name, (r) => r.arrived);
    out[`${name}_requests`] = answered;
    out[`${name}_spans_arrived`] = arrived;
    out[`${name}_dropped`] = Math.max(0, answered - arrived);
  }
  const lines: string[] = [];
  if (has('linktrace_sink') && has('otel_sink')) {
    const ratio = cpu('linktrace_sink') / cpu('otel_sink');
    out['cpu_ratio_linktrace_vs_otel_sink'] = round3(ratio);
    out['target_cpu_ratio_sink'] = TARGET_CPU_RATIO_SINK;
    out['target_cpu_ratio_sink_met'] = ratio <= TARGET_CPU_RATIO_SINK;
    let text =
      `With the sink, server CPU per request ${cpuWhere}: Linktrace ${cpu('linktrace_sink').toFixed(1)} µs, OpenTelemetry ${cpu('otel_sink').toFixed(1)} µs ` +
      `(Linktrace/OpenTelemetry ${(ratio * 100).toFixed(1)} %, target ≤ ${TARGET_CPU_RATIO_SINK * 100} %: ${ratio <= TARGET_CPU_RATIO_SINK ? 'met' : 'missed'})`;
    if (has('bare')) {
      const lt = cpu('linktrace_sink') - cpu('bare');
      const ot = cpu('otel_sink') - cpu('bare');
      out['linktrace_sink_overhead_cpu_us_per_req'] = round1(lt);
      out['otel_sink_overhead_cpu_us_per_req'] = round1(ot);
      out['overhead_ratio_linktrace_vs_otel_sink'] = round3(lt / ot);
      text += `; above bare (${cpu('bare').toFixed(1)} µs): +${lt.toFixed(1)} against +${ot.toFixed(1)} µs (${((lt / ot) * 100).toFixed(1)} %)`;
    }
    lines.push(text);
  }
  if (has('linktrace_sink_alt') && has('linktrace_sink')) {
    out['cpu_ratio_linktrace_vs_alt_sink'] = round3(cpu('linktrace_sink') / cpu('linktrace_sink_alt'));
    lines.push(`This build against BENCH_ALT_REGISTER's, both to the sink: ${cpu('linktrace_sink').toFixed(1)} against ${cpu('linktrace_sink_alt').toFixed(1)} µs per request ${cpuWhere}`);
  }
  if (has('linktrace_serve') && has('otel_serve')) {
    out['cpu_ratio_linktrace_vs_otel_serve'] = round3(cpu('linktrace_serve') / cpu('otel_serve'));
    out['rps_ratio_linktrace_vs_otel_serve'] = round3(rps('linktrace_serve') / rps('otel_serve'));
  }
  if (has('linktrace_serve') && has('bare')) {
    const ratio = rps('linktrace_serve') / rps('bare');
    out['target_rps_ratio_serve'] = TARGET_RPS_RATIO_SERVE;
    out['target_rps_ratio_serve_met'] = ratio >= TARGET_RPS_RATIO_SERVE;
    lines.push(
      `With linktrace serve as the collector on the same cores, Linktrace keeps ${(ratio * 100).toFixed(1)} % of bare throughput end to end ` +
        `(target ≥ ${TARGET_RPS_RATIO_SERVE * 100} %: ${ratio >= TARGET_RPS_RATIO_SERVE ? 'met' : 'missed'}); the collector spent ${med('linktrace_serve', (r) => r.receiverCpuUsPerRequest).toFixed(1)} µs of CPU per request`,
    );
  }
  if (PROFILE !== undefined) lines.push(`CPU profile of the ${PROFILE} server in ${PROFILE_DIR}`);
  for (const line of lines) console.log(line);
  printResult(out);
}

await main();
