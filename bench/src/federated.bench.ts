/**
 * bench:federated — what a federated query costs against shipping every span to a central store.
 *
 * 1. Queries: 20 agents and one gateway (in this process, on loopback); traces of 2, 5, 10 and 20
 *    hops (one agent per hop, BENCH_SPANS_PER_HOP spans each: server, internal, client) are sent to
 *    their agents; each trace is then read through the gateway (`GET /api/v1/traces/{id}`, the walk
 *    plus assembly plus the on-demand chain check), BENCH_QUERIES times per chain length. Figures:
 *    wall time per query (p50/p99), CPU per query (the whole process), bytes the gateway read from agents per query, and the bytes the
 *    same trace costs when every span is shipped to a central store (its OTLP protobuf export
 *    request, what the SDK sends).
 * 2. Agent CPU: `linktrace agent` (as by default: host-local checker on; and with
 *    `--no-local-check`) and `linktrace serve` as their own processes take the same
 *    BENCH_CPU_SPANS spans (native JSON batches of 500); the CPU (user + system, all threads, from
 *    /proc) each spent per span until every span is stored and its check delay has passed; run
 *    agent, agent --no-local-check, serve, serve, agent --no-local-check, agent and averaged, so that
 *    no role always runs first. The target (agent ≤ half of serve) is judged on the default agent.
 *    BENCH_AGENT_ARGS adds flags to both agent runs (e.g. `--store-format blocks`); BENCH_SKIP_QUERIES=1
 *    skips the query part; BENCH_CPU_PROF=<dir> runs each role under `node --cpu-prof` into it.
 *
 * Last line: `{"query_p99_ms_5_hops", "bytes_moved_per_query", "central_bytes_per_trace",
 * "agent_cpu_us_per_span", …}`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTraceIdGenerator, encodeNativeJson, encodeOtlpProto, type Span } from '@linktrace/model';
import { chainSpans } from './federated-chain.js';
import { AgentDirectory } from '@linktrace/storage';
import { buildGatewayApp, parseAgentFlags, startAgent, type RunningAgent } from '@linktrace/server';
import { envInt, percentile, printResult, printTable } from './stats.js';
import { metricValue } from './ingest-server.js';

const QUERIES = envInt('BENCH_QUERIES', 100);
const AGENT_ARGS = (process.env.BENCH_AGENT_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
const CPU_PROF = process.env.BENCH_CPU_PROF;
const SKIP_QUERIES = process.env.BENCH_SKIP_QUERIES === '1';
const SPANS_PER_HOP = Math.max(3, envInt('BENCH_SPANS_PER_HOP', 4));
const CPU_SPANS = envInt('BENCH_CPU_SPANS', 60_000);
const CHAINS = [2, 5, 10, 20];
const AGENTS = Math.max(...CHAINS);
const BIN = fileURLToPath(new URL('../../../packages/server/bin/linktrace.js', import.meta.url));
const newTraceId = createTraceIdGenerator({ ipv4: '10.20.30.40', port: 5000 });
const ORIGIN = '10.20.30.40:5000';

async function post(url: string, body: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (res.ok) return;
    if (res.status !== 429 && res.status !== 503) throw new Error(`${url}: HTTP ${res.status}`);
    await sleep(200);
  }
  throw new Error(`${url}: still refused after 50 tries`);
}

async function storedSpans(url: string): Promise<number> {
  return metricValue(await (await fetch(`${url}/metrics`)).text(), 'linktrace_spans_stored_total');
}

async function queryPart(dir: string): Promise<{ rows: (string | number)[][]; figures: Record<string, number> }> {
  const directory = new AgentDirectory();
  const gateway = await buildGatewayApp({ directory, hopTimeoutMs: 2000, walkTimeoutMs: 10_000, maxAgentsPerWalk: 1000, maxSpans: 200_000, maxAnswerBytes: 64 << 20, uiDir: false, check: {} });
  await gateway.listen({ port: 0, host: '127.0.0.1' });
  const gatewayUrl = `http://127.0.0.1:${(gateway.server.address() as { port: number }).port}`;
  const agents: RunningAgent[] = [];
  try {
    for (let i = 0; i < AGENTS; i++) {
      process.stderr.write(`\r  starting agent ${i + 1}/${AGENTS}`);
      agents.push(await startAgent(parseAgentFlags({ port: '0', data: join(dir, `agent-${i}`), serves: `127.0.0.1:${9000 + i}` }), { print: () => {}, warn: (l) => process.stderr.write(`  [agent ${i}] ${l}\n`) }));
      directory.register({ ...agents[i]!.info(), ...(i === 0 ? { origins: [ORIGIN] } : {}) });
    }
    process.stderr.write('\n');
    const rows: (string | number)[][] = [];
    const figures: Record<string, number> = {};
    const expected = new Array<number>(AGENTS).fill(0);
    const traces = new Map<number, { id: string; spans: number; centralBytes: number }[]>();
    let startUs = Date.now() * 1000 - 60_000_000;
    for (const hops of CHAINS) {
      const list: { id: string; spans: number; centralBytes: number }[] = [];
      const perAgent: Span[][] = Array.from({ length: AGENTS }, () => []);
      for (let t = 0; t < QUERIES; t++) {
        const id = newTraceId();
        const chain = chainSpans(id, hops, (startUs += 5000), SPANS_PER_HOP);
        chain.forEach((spans, i) => perAgent[i]!.push(...spans));
        const all = chain.flat();
        list.push({ id, spans: all.length, centralBytes: chain.reduce((sum, spans) => sum + encodeOtlpProto(spans).byteLength, 0) });
      }
      traces.set(hops, list);
      for (let i = 0; i < AGENTS; i++) {
        const spans = perAgent[i]!;
        expected[i]! += spans.length;
        for (let at = 0; at < spans.length; at += 500) await post(`${agents[i]!.server.url}/api/v1/spans`, JSON.stringify(encodeNativeJson(spans.slice(at, at + 500))));
      }
    }
    for (let i = 0; i < AGENTS; i++) {
      for (let tries = 0; (await storedSpans(agents[i]!.server.url)) < expected[i]!; tries++) {
        if (tries > 600) throw new Error(`agent ${i} did not store its spans`);
        await sleep(100);
      }
    }
    for (const hops of CHAINS) {
      const list = traces.get(hops)!;
      const ms: number[] = [];
      let moved = 0;
      let central = 0;
      let spans = 0;
      // The whole bench process: client, gateway and the agents it asks all run here, so this is
      // the CPU the federation spent on one query, a figure the machine's load does not inflate.
      const cpuBefore = process.cpuUsage();
      for (const t of list) {
        const started = performance.now();
        const res = await fetch(`${gatewayUrl}/api/v1/traces/${t.id}`);
        const body = (await res.json()) as { spanCount: number; walk: { bytes: number }; hops: { status: string }[] };
        ms.push(performance.now() - started);
        if (res.status !== 200 || body.spanCount !== t.spans || body.hops.some((h) => h.status !== 'ok')) throw new Error(`trace ${t.id}: HTTP ${res.status}, ${body.spanCount} of ${t.spans} spans`);
        moved += body.walk.bytes;
        central += t.centralBytes;
        spans += t.spans;
      }
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = Math.round(((cpu.user + cpu.system) / 1000 / list.length) * 100) / 100;
      const p50 = percentile(ms, 50);
      const p99 = percentile(ms, 99);
      rows.push([`${hops} hops`, spans / list.length, Math.round(p50 * 100) / 100, Math.round(p99 * 100) / 100, cpuMs, Math.round(moved / list.length), Math.round(central / list.length), Math.round((central / spans) * 10) / 10]);
      figures[`query_cpu_ms_${hops}_hops`] = cpuMs;
      figures[`query_p50_ms_${hops}_hops`] = Math.round(p50 * 100) / 100;
      figures[`query_p99_ms_${hops}_hops`] = Math.round(p99 * 100) / 100;
      figures[`bytes_moved_per_query_${hops}_hops`] = Math.round(moved / list.length);
      figures[`central_bytes_per_trace_${hops}_hops`] = Math.round(central / list.length);
      if (hops === 5) {
        figures.bytes_moved_per_query = Math.round(moved / list.length);
        figures.central_bytes_per_trace = Math.round(central / list.length);
        figures.central_bytes_per_span = Math.round((central / spans) * 10) / 10;
      }
    }
    return { rows, figures };
  } finally {
    await gateway.close();
    for (const a of agents) await a.close();
  }
}

/** user + system CPU of a process, all threads, µs (from /proc). */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime are fields 14 and 15 (1-based) of the whole line: 11 and 12 after the command.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

type Role = 'agent' | 'agent-nocheck' | 'serve';

function roleArgs(role: Role, dir: string): string[] {
  if (role === 'serve') return ['serve', '--port', '0', '--grpc-port', '0', '--no-ui', '--data', dir, '--check-delay', '2s', '--max-wait', '2s'];
  return ['agent', '--port', '0', '--data', dir, '--check-delay', '2s', ...(role === 'agent-nocheck' ? ['--no-local-check'] : []), ...AGENT_ARGS];
}

/** CPU µs per thread name (`/proc/<pid>/task/<tid>/stat`), threads of one name summed; the main thread is `main`. */
function threadCpuUs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : process.env.BENCH_THREADS === 'each' ? `+${Number(tid) - pid}` : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '#');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU µs per span: up to 3 s after every span is stored (`window`), and up to the process's exit (`toExit`). */
interface RoleCpu {
  window: number;
  toExit: number;
}

/**
 * The process's CPU until it has gone, read from /proc every 10 ms after SIGTERM (the last reading
 * before it is reaped; at most 10 ms of CPU missed). It counts what a store defers to its close — a
 * block store's in-memory head (written at 122 880 spans or 15 s, so after this bench's window),
 * DuckDB's last checkpoint — which the window alone would leave out.
 */
async function cpuUntilExit(pid: number, last: number, exited: Promise<unknown>): Promise<number> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 6000 && !gone; i++) {
    try {
      last = processCpuUs(pid);
    } catch {
      break;
    }
    await sleep(10);
  }
  return last;
}

async function cpuPerSpan(role: Role, dir: string, batches: string[], spans: number): Promise<RoleCpu> {
  const prof = CPU_PROF === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', CPU_PROF, '--cpu-prof-name', `${role}-${Date.now()}.cpuprofile`];
  const child = spawn(process.execPath, [...prof, BIN, ...roleArgs(role, dir)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => process.stderr.write(`  [${role}] ${d}`));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    let url: string | undefined;
    for (let i = 0; i < 1200 && url === undefined; i++) {
      url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url === undefined) await sleep(50);
    }
    if (url === undefined) throw new Error(`${role} did not start: ${out}`);
    await sleep(1000); // start-up work done before measuring
    const before = processCpuUs(child.pid!);
    const threadsBefore = threadCpuUs(child.pid!);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches.length) await post(`${url}/api/v1/spans`, batches[next++]!);
      }),
    );
    // Every 500 ms: each /metrics answer costs the measured process ~1 ms (prom-client and the RED
    // histograms; ~1-1.7 µs/span at 10 a second, in the profile), which is not ingest.
    for (let tries = 0; (await storedSpans(url)) < spans; tries++) {
      if (tries > 600) throw new Error(`${role} did not store every span`);
      await sleep(500);
    }
    await sleep(3000); // past the check delay: the chain check of these traces is part of the cost
    const perThread = [...threadCpuUs(child.pid!)].map(([name, us]) => `${name} ${((us - (threadsBefore.get(name) ?? 0)) / spans).toFixed(1)}`);
    process.stderr.write(`  [${role}] µs/span by thread: ${perThread.join(', ')}\n`);
    const window = processCpuUs(child.pid!);
    child.kill('SIGTERM');
    const atExit = await cpuUntilExit(child.pid!, window, exited);
    return { window: (window - before) / spans, toExit: (atExit - before) / spans };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'linktrace-bench-fed-'));
  try {
    process.stderr.write(`bench:federated: ${AGENTS} agents, chains of ${CHAINS.join(', ')} hops, ${QUERIES} queries each, ${SPANS_PER_HOP} spans per hop\n`);
    const q = !SKIP_QUERIES ? await queryPart(join(dir, 'query')) : { rows: [], figures: {} as Record<string, number> };
    // The CPU part: the same spans into an agent and into serve.
    const batches: string[] = [];
    let spans = 0;
    let startUs = Date.now() * 1000 - 30_000_000;
    let pending: Span[] = [];
    while (spans < CPU_SPANS) {
      const chain = chainSpans(newTraceId(), 5, (startUs += 3000), SPANS_PER_HOP).flat();
      pending.push(...chain);
      spans += chain.length;
      if (pending.length >= 500) {
        batches.push(JSON.stringify(encodeNativeJson(pending)));
        pending = [];
      }
    }
    if (pending.length > 0) batches.push(JSON.stringify(encodeNativeJson(pending)));
    process.stderr.write(`  CPU: ${spans} spans into linktrace agent (local check on, and off), and linktrace serve, twice each${AGENT_ARGS.length > 0 ? `; agent flags ${AGENT_ARGS.join(' ')}` : ''}\n`);
    // Symmetric order, means: the first run after the query part paid for the bench process's own
    // clean-up (measured: agent 32-37 µs/span first vs 29 alone), so no role always goes first.
    const order: Role[] = ['agent', 'agent-nocheck', 'serve', 'serve', 'agent-nocheck', 'agent'];
    const measured: Record<Role, RoleCpu[]> = { agent: [], 'agent-nocheck': [], serve: [] };
    await sleep(2000);
    for (const [i, role] of order.entries()) measured[role].push(await cpuPerSpan(role, join(dir, `cpu-${role}-${i}`), batches, spans));
    const runs = Object.fromEntries(Object.entries(measured).map(([role, list]) => [role, list.map((c) => c.window)])) as Record<Role, number[]>;
    const exitRuns = Object.fromEntries(Object.entries(measured).map(([role, list]) => [role, list.map((c) => c.toExit)])) as Record<Role, number[]>;
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const round1 = (x: number): number => Math.round(x * 10) / 10;
    const agentCpu = mean(runs.agent);
    const noCheckCpu = mean(runs['agent-nocheck']);
    const serveCpu = mean(runs.serve);
    const agentExit = mean(exitRuns.agent);
    const noCheckExit = mean(exitRuns['agent-nocheck']);
    const serveExit = mean(exitRuns.serve);
    const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
    process.stderr.write(`  CPU µs/span: agent ${runs.agent.map((x) => x.toFixed(1)).join(', ')}; agent --no-local-check ${runs['agent-nocheck'].map((x) => x.toFixed(1)).join(', ')}; serve ${runs.serve.map((x) => x.toFixed(1)).join(', ')}\n`);
    console.log('federated queries (walk + assembly + chain check at the gateway):');
    printTable(['chain', 'spans/trace', 'p50 ms', 'p99 ms', 'CPU ms/query', 'bytes moved/query', 'central bytes/trace', 'central bytes/span'], q.rows);
    console.log('');
    printTable(['role', 'CPU µs per span stored', '/ serve', 'to exit µs/span', '/ serve'], [
      ['linktrace agent (default: local check on)', round1(agentCpu), ratio(agentCpu, serveCpu), round1(agentExit), ratio(agentExit, serveExit)],
      ['linktrace agent --no-local-check', round1(noCheckCpu), ratio(noCheckCpu, serveCpu), round1(noCheckExit), ratio(noCheckExit, serveExit)],
      ['linktrace serve', round1(serveCpu), 1, round1(serveExit), 1],
    ]);
    printResult({
      ...(!SKIP_QUERIES ? { query_p99_ms_5_hops: q.figures.query_p99_ms_5_hops!, bytes_moved_per_query: q.figures.bytes_moved_per_query!, central_bytes_per_trace: q.figures.central_bytes_per_trace! } : {}),
      agent_cpu_us_per_span: round1(agentCpu),
      serve_cpu_us_per_span: round1(serveCpu),
      agent_vs_serve_cpu: Math.round((agentCpu / serveCpu) * 1000) / 1000,
      agent_nocheck_cpu_us_per_span: round1(noCheckCpu),
      agent_nocheck_vs_serve_cpu: Math.round((noCheckCpu / serveCpu) * 1000) / 1000,
      agent_cpu_us_per_span_runs: runs.agent.map(round1).join(' '),
      agent_nocheck_cpu_us_per_span_runs: runs['agent-nocheck'].map(round1).join(' '),
      serve_cpu_us_per_span_runs: runs.serve.map(round1).join(' '),
      agent_cpu_us_per_span_to_exit: round1(agentExit),
      agent_nocheck_cpu_us_per_span_to_exit: round1(noCheckExit),
      serve_cpu_us_per_span_to_exit: round1(serveExit),
      agent_vs_serve_cpu_to_exit: ratio(agentExit, serveExit),
      agent_nocheck_vs_serve_cpu_to_exit: ratio(noCheckExit, serveExit),
      agent_args: AGENT_ARGS.join(' '),
      ...q.figures,
      queries: QUERIES,
      cpu_spans: spans,
      loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
