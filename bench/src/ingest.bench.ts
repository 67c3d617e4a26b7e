/**
 * bench:ingest — end-to-end ingest into `linktrace serve` running as its own process: realistic
 * generated traces (ingest-traces.ts) pre-encoded as OTLP protobuf / gzip protobuf / JSON export
 * requests, POSTed by concurrent keep-alive exporters that honour 429/503 Retry-After, timed until
 * every accepted span is stored (queryable); then bytes per span on disk, and query latencies over
 * the HTTP API. Progress on stderr; a table, then one JSON line, on stdout.
 *
 * Environment: BENCH_SPANS (default 5 000 000), BENCH_CONCURRENCY (exporters, 8), BENCH_QUERIES
 * (runs per query kind, 200), BENCH_JSON_SHARE (0.25), BENCH_GZIP_SHARE (0.25), BENCH_PARTS
 * (preparation threads, one per core), BENCH_SERVER_ARGS (more `serve` flags), BENCH_SERVER_NODE_ARGS
 * (flags for the server's node, e.g. `--max-semi-space-size=64`), BENCH_PROFILE=1 (CPU-profile the
 * server's JavaScript thread), BENCH_KEEP=1 (keep the data directory), BENCH_SERVER_CPUS=n (the
 * server on CPUs 0..n-1 only, `taskset`; the load generator then on the others), BENCH_SERVER_BIN (another
 * build's `packages/server/bin/linktrace.js`, for before/after runs with the same load).
 *
 * After the server has stopped, the store file is opened read-only to report the same spans'
 * size as Parquet with zstd and the store's bytes per column group (ingest-store-bytes.ts).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinProcess, requireTaskset } from './cpu-pin.js';
import { AVERAGE_SPANS_PER_TRACE, prepareBatches } from './ingest-prepare.js';
import { waitForChecker, type CheckerDrain } from './ingest-checker-wait.js';
import { diskUsage, type DiskUsage } from './ingest-disk.js';
import { httpRequest, keepAliveAgent } from './ingest-http.js';
import { summarizeProfile } from './ingest-profile.js';
import { profileSteps, type ProfileWindow } from './ingest-profile-steps.js';
import { QueryBench, type QueryTiming } from './ingest-queries.js';
import { Sender } from './ingest-sender.js';
import { metricValue, startServerProcess, type ServerProcess } from './ingest-server.js';
import { measureBlockStoreBytes, measureStoreBytes, type StoreBytes } from './ingest-store-bytes.js';
import { cpuBetween, machineBusySeconds, threadCpu } from './ingest-threads.js';
import { printResult, printTable } from './stats.js';

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: "${text}" is not a non-negative number`);
  return n;
}

const SPANS = Math.round(envNumber('BENCH_SPANS', 5_000_000));
const CONCURRENCY = Math.max(1, Math.round(envNumber('BENCH_CONCURRENCY', 8)));
const QUERIES = Math.max(1, Math.round(envNumber('BENCH_QUERIES', 200)));
const JSON_SHARE = envNumber('BENCH_JSON_SHARE', 0.25);
const GZIP_SHARE = envNumber('BENCH_GZIP_SHARE', 0.25);
const PARTS = Math.max(1, Math.round(envNumber('BENCH_PARTS', availableParallelism())));
const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter((a) => a !== '');
const SERVER_ARGS = words(process.env.BENCH_SERVER_ARGS);
const SERVER_NODE_ARGS = words(process.env.BENCH_SERVER_NODE_ARGS);
const PROFILE = process.env.BENCH_PROFILE === '1';
const KEEP = process.env.BENCH_KEEP === '1';
/** Read before the load generator may pin itself (availableParallelism follows the affinity). */
const CORES = availableParallelism();
/** BENCH_SERVER_CPUS=n: the server on CPUs 0..n-1 (unset: not pinned, all cores). */
const SERVER_CPU_COUNT = process.env.BENCH_SERVER_CPUS === undefined || process.env.BENCH_SERVER_CPUS === '' ? undefined : serverCpuCount(process.env.BENCH_SERVER_CPUS);
const SERVER_CPUS = SERVER_CPU_COUNT === undefined ? undefined : SERVER_CPU_COUNT === 1 ? '0' : `0-${SERVER_CPU_COUNT - 1}`;
/** The load generator keeps off the server's CPUs when any are left. */
const BENCH_CPUS = SERVER_CPU_COUNT === undefined || SERVER_CPU_COUNT >= CORES ? undefined : SERVER_CPU_COUNT === CORES - 1 ? String(CORES - 1) : `${SERVER_CPU_COUNT}-${CORES - 1}`;

function serverCpuCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > CORES) throw new Error(`BENCH_SERVER_CPUS: "${text}" is not a whole number of CPUs from 1 to ${CORES}`);
  return n;
}
/** The generated traffic covers the hour before the run (inside the server's default retention). */
const WINDOW_US = 3_600_000_000;
/** The server's default request size limit; larger bodies are split. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const PROGRESS_MS = 5000;
/** Bounds the wait for the store to catch up after the last answer. */
const STORE_WAIT_MS = 30 * 60_000;
/**
 * How often the wait for the store polls `/metrics` once every request is answered. A scrape costs
 * the server's JavaScript thread milliseconds (every RED series is formatted and written), and the
 * step table counted 3–5 µs/span of prom-client and answer writes at 300 000 spans when it polled
 * every 50 ms. Now it sleeps about half the time the store should still need at its current pace,
 * within these bounds.
 */
const STORED_POLL_MIN_MS = 50;
const STORED_POLL_MAX_MS = 1000;
/** Bounds the wait for the chain checker to finish after ingest. */
const CHECKER_WAIT_MS = 20 * 60_000;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
/** The store's files (the DuckDB database and its own WAL), without the server's write-ahead log under wal/. */
const storeBytes = (u: DiskUsage): number => u.files.reduce((n, [file, bytes]) => (file.startsWith('wal/') ? n : n + bytes), 0);

async function metrics(url: string, agent: ReturnType<typeof keepAliveAgent>): Promise<string> {
  const answer = await httpRequest(agent, new URL('/metrics', url), 'GET');
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  return answer.body.toString('utf8');
}

async function main(): Promise<void> {
  if (SERVER_CPUS !== undefined) requireTaskset('BENCH_SERVER_CPUS');
  const t0 = performance.now();
  const nowUs = Date.now() * 1000;
  log(`bench:ingest: preparing ${fmt(SPANS)} spans on ${PARTS} threads…`);
  const set = await prepareBatches(
    {
      spans: SPANS,
      seed: 20_240_601,
      startUs: nowUs - WINDOW_US,
      traceGapUs: (WINDOW_US * AVERAGE_SPANS_PER_TRACE) / Math.max(1, SPANS),
      minBatch: 1000,
      maxBatch: 5000,
      jsonShare: JSON_SHARE,
      gzipShare: GZIP_SHARE,
      maxBodyBytes: MAX_BODY_BYTES,
      samples: 2000,
    },
    PARTS,
  );
  const formats = new Map<string, { requests: number; spans: number; bytes: number }>();
  for (const b of set.bodies) {
    const f = formats.get(b.format) ?? { requests: 0, spans: 0, bytes: 0 };
    f.requests++;
    f.spans += b.spans;
    f.bytes += b.body.byteLength;
    formats.set(b.format, f);
  }
  log(
    `bench:ingest: ${fmt(set.spans)} spans in ${fmt(set.traces)} traces, ${set.bodies.length} requests, ${mb(set.bodyBytes)} of bodies, ` +
      `prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'lt-bench-ingest-'));
  const profileDir = join(dataDir, '..', `${dataDir.split('/').pop()!}-profile`);
  const nodeArgs = [...SERVER_NODE_ARGS, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  let server: ServerProcess | undefined;
  const agent = keepAliveAgent(2);
  try {
    server = await startServerProcess({ dataDir, args: SERVER_ARGS, nodeArgs, cpus: SERVER_CPUS });
    // After the preparation threads are done: the exporters and the query client off the server's CPUs.
    if (BENCH_CPUS !== undefined) pinProcess(process.pid, BENCH_CPUS);
    const url = server.url;
    const probe = await httpRequest(agent, new URL('/api/v1/services', url), 'GET');
    if (probe.status !== 200) throw new Error(`the server has no query API (GET /api/v1/services answered ${probe.status})`);

    // Ingest, with progress and the server's thread CPU and memory sampled along the way.
    const sender = new Sender(url, CONCURRENCY);
    const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
    const ingestWindow: ProfileWindow = { fromUs: monotonicUs(), toUs: 0 };
    const cpuStart = threadCpu(server.pid);
    const machineStart = machineBusySeconds();
    const benchStart = process.cpuUsage();
    const loadStart = loadavg()[0]!;
    let maxRssBytes = 0;
    let openTraces = NaN;
    let lastStored = 0;
    let lastAt = performance.now();
    const sample = async (): Promise<number> => {
      const text = await metrics(url, agent);
      maxRssBytes = Math.max(maxRssBytes, metricValue(text, 'linktrace_process_resident_memory_bytes') || 0);
      openTraces = metricValue(text, 'linktrace_checker_open_traces');
      return metricValue(text, 'linktrace_spans_stored_total');
    };
    const progress = setInterval(() => {
      void sample().then(
        (stored) => {
          const now = performance.now();
          log(
            `  [${((now - sender.startedAt) / 1000).toFixed(0).padStart(4)} s] sent ${fmt(sender.sentSpans)}/${fmt(set.spans)}  ` +
              `acknowledged ${fmt(sender.acceptedSpans)}  stored ${fmt(stored)}  ${fmt(((stored - lastStored) * 1000) / (now - lastAt))} spans/s stored  ` +
              `429: ${sender.throttled}  503: ${sender.unavailable}${Number.isNaN(openTraces) ? '' : `  checker open traces ${fmt(openTraces)}`}`,
          );
          lastStored = stored;
          lastAt = now;
        },
        (error: unknown) => log(`  progress: ${(error as Error).message}`),
      );
    }, PROGRESS_MS);
    let storedAt = 0;
    let stored = 0;
    try {
      await sender.run(set.bodies);
      const waitUntil = performance.now() + STORE_WAIT_MS;
      let before: [number, number] | undefined;
      for (;;) {
        stored = await sample();
        storedAt = performance.now();
        if (stored >= sender.acceptedSpans) break;
        if (storedAt > waitUntil) throw new Error(`only ${stored} of ${sender.acceptedSpans} accepted spans were stored after ${STORE_WAIT_MS / 60000} min`);
        // Half the time the rest should take at the pace since the last poll (the longest wait when none was seen).
        const pace = before === undefined || stored <= before[0] ? 0 : (stored - before[0]) / (storedAt - before[1]);
        const needMs = pace > 0 ? (sender.acceptedSpans - stored) / pace : Infinity;
        before = [stored, storedAt];
        await sleep(Math.max(STORED_POLL_MIN_MS, Math.min(STORED_POLL_MAX_MS, needMs / 2)));
      }
    } finally {
      clearInterval(progress);
    }
    const cpu = cpuBetween(server.pid, cpuStart, threadCpu(server.pid));
    ingestWindow.toUs = monotonicUs();
    const benchCpu = process.cpuUsage(benchStart);
    const machine = {
      busyS: machineBusySeconds() - machineStart,
      benchS: (benchCpu.user + benchCpu.system) / 1e6,
      load: [loadStart, loadavg()[0]!] as const,
    };
    const ingestS = (storedAt - sender.startedAt) / 1000;
    const ackS = (sender.lastAnswerAt - sender.startedAt) / 1000;
    const finalMetrics = await metrics(url, agent);
    const live = diskUsage(dataDir);
    log(`bench:ingest: ${fmt(stored)} spans stored in ${ingestS.toFixed(1)} s; waiting for the chain checker…`);
    const cpuChecker = threadCpu(server.pid);
    const checker = await waitForChecker(() => metrics(url, agent), CHECKER_WAIT_MS);
    const checkerCpuS = cpuBetween(server.pid, cpuChecker, threadCpu(server.pid)).reduce((n, [, s]) => n + s, 0);
    if (!checker.drained) log(`bench:ingest: the chain checker was still busy after ${CHECKER_WAIT_MS / 60000} min; querying anyway`);
    log('bench:ingest: querying…');

    const queries = new QueryBench(url, set.samples, 7);
    const timings: QueryTiming[] = [];
    try {
      timings.push(await queries.measure('trace by id (GET /api/v1/traces/{id})', 'traceById', QUERIES));
      timings.push(await queries.measure('trace by id (Zipkin GET /api/v2/trace/{id})', 'zipkinTraceById', Math.min(QUERIES, 50)));
      timings.push(await queries.measure('search service + operation', 'serviceOperation', QUERIES));
      timings.push(await queries.measure('search attribute (entity key or user id)', 'attribute', QUERIES));
      timings.push(await queries.measure('search service + status=error', 'serviceError', Math.min(QUERIES, 50)));
    } finally {
      queries.close();
    }

    log('bench:ingest: stopping the server (drain, close the store)…');
    const exit = await server.stop(120_000);
    server = undefined;
    if (exit !== 0) throw new Error(`linktrace serve exited with ${exit} on SIGTERM`);
    const closed = diskUsage(dataDir);
    const dbFile = closed.files.find(([file]) => file.endsWith('.duckdb') && !file.includes('/'))?.[0];
    if (dbFile === undefined) throw new Error(`no DuckDB file in ${dataDir}`);
    log('bench:ingest: measuring the store file (Parquet + zstd copy, bytes per column)…');
    const parquetFile = `${dataDir}-spans.parquet`;
    let storeBytesInfo: StoreBytes;
    try {
      // `serve --store-format blocks`: spans in Parquet files under blocks/, the small tables in their own DuckDB file.
      const blocks = dbFile === 'linktrace-blocks.duckdb';
      const otherBytes = storeBytes(closed) - closed.files.reduce((n, [file, bytes]) => (file.startsWith('blocks/') && file.endsWith('.parquet') ? n + bytes : n), 0);
      storeBytesInfo = blocks ? await measureBlockStoreBytes(dataDir, parquetFile, otherBytes) : await measureStoreBytes(join(dataDir, dbFile), parquetFile);
    } finally {
      if (!KEEP) rmSync(parquetFile, { force: true });
    }

    report({ set, formats, sender, ingestS, ackS, stored, cpu, machine, checker, checkerCpuS, finalMetrics, maxRssBytes, live, closed, timings, dataDir, storeBytes: storeBytesInfo });
    const steps = PROFILE ? printProfile(profileDir, ingestWindow, stored, cpu.find(([name]) => name === 'main (JavaScript)')?.[1] ?? NaN) : undefined;
    const byId = timings[0]!;
    const search = timings[2]!;
    const attr = timings[3]!;
    const perSpan = (bytes: number): number => Number((bytes / stored).toFixed(1));
    const cpuTotalS = cpu.reduce((n, [, s]) => n + s, 0);
    printResult({
      spans: stored,
      server_cpus: SERVER_CPU_COUNT ?? CORES,
      traces: set.traces,
      concurrency: CONCURRENCY,
      ingest_spans_per_s: Math.round(stored / ingestS),
      acknowledged_spans_per_s: Math.round(sender.acceptedSpans / ackS),
      ingest_s: Number(ingestS.toFixed(1)),
      bytes_per_span: Number((storeBytes(closed) / stored).toFixed(1)),
      bytes_per_span_live: Number((storeBytes(live) / stored).toFixed(1)),
      data_dir_bytes_per_span: Number((closed.total / stored).toFixed(1)),
      parquet_zstd_bytes_per_span: perSpan(storeBytesInfo.parquetZstdBytes),
      ...Object.fromEntries(storeBytesInfo.groups.map((g) => [`bytes_per_span_${g.key}`, perSpan(g.bytes)])),
      server_cpu_us_per_span: Number(((cpuTotalS * 1e6) / stored).toFixed(1)),
      trace_by_id_p50_ms: round2(byId.p50),
      trace_by_id_p99_ms: round2(byId.p99),
      search_p50_ms: round2(search.p50),
      search_p99_ms: round2(search.p99),
      attr_search_p50_ms: round2(attr.p50),
      attr_search_p99_ms: round2(attr.p99),
      checker_done_s_after_stored: checker.present ? Number(checker.seconds.toFixed(1)) : -1,
      checker_trace_checks: checker.tracesChecked,
      checker_refused_traces: checker.refusedTraces,
      checker_dropped_rechecks: checker.droppedRechecks,
      findings: checker.findings.reduce((n, [, count]) => n + count, 0),
      throttled_429: sender.throttled,
      server_max_rss_mb: Math.round(maxRssBytes / 1048576),
      load_start: Number(machine.load[0].toFixed(1)),
      load_end: Number(machine.load[1].toFixed(1)),
      ...Object.fromEntries(Object.entries(steps ?? {}).map(([k, v]) => [`js_us_per_span_${k}`, v])),
    });
  } finally {
    agent.destroy();
    if (server !== undefined) await server.stop(10_000);
    if (!KEEP) {
      rmSync(dataDir, { recursive: true, force: true });
    } else log(`bench:ingest: data kept in ${dataDir}`);
  }
}

function round2(n: number): number {
  return Number(n.toFixed(2));
}

interface Report {
  set: { spans: number; traces: number; bodies: unknown[]; bodyBytes: number };
  formats: Map<string, { requests: number; spans: number; bytes: number }>;
  sender: Sender;
  ingestS: number;
  ackS: number;
  stored: number;
  cpu: [string, number][];
  machine: { busyS: number; benchS: number; load: readonly [number, number] };
  checker: CheckerDrain;
  checkerCpuS: number;
  finalMetrics: string;
  maxRssBytes: number;
  live: DiskUsage;
  closed: DiskUsage;
  timings: QueryTiming[];
  dataDir: string;
  storeBytes: StoreBytes;
}

function report(r: Report): void {
  const { set, sender, stored } = r;
  console.log(
    `bench:ingest — ${fmt(stored)} spans (${fmt(set.traces)} traces, ${(set.spans / set.traces).toFixed(1)} spans/trace, 10 attributes/span), ` +
      `${CONCURRENCY} exporters, linktrace serve as its own process on ${CORES} cores` +
      (SERVER_CPUS === undefined ? '' : `, pinned to CPU ${SERVER_CPUS} (taskset; load generator on ${BENCH_CPUS ?? 'the same CPUs'})`),
  );
  const flags = [...SERVER_NODE_ARGS, ...SERVER_ARGS];
  if (flags.length > 0) console.log(`server flags: ${flags.join(' ')}`);
  printTable(
    ['request bodies', 'requests', 'spans', 'MB', 'bytes/span'],
    [...r.formats].map(([format, f]) => [format, f.requests, f.spans, (f.bytes / 1048576).toFixed(1), (f.bytes / f.spans).toFixed(0)]),
  );
  console.log('');
  const m = (name: string): number => metricValue(r.finalMetrics, name);
  printTable(
    ['ingest', 'value'],
    [
      ['spans/s, first request to all stored', fmt(stored / r.ingestS)],
      ['spans/s, first request to last answer', fmt(sender.acceptedSpans / r.ackS)],
      ['seconds to all stored', r.ingestS.toFixed(1)],
      ['requests (incl. retries)', fmt(sender.requests)],
      ['429 answers (retried after Retry-After)', fmt(sender.throttled)],
      ['503 answers', fmt(sender.unavailable)],
      ['spans rejected (partial success)', fmt(sender.rejectedSpans)],
      ['WAL group commits (fsyncs)', fmt(m('linktrace_wal_fsyncs_total'))],
      ['server peak RSS (MB, sampled)', fmt(r.maxRssBytes / 1048576)],
    ],
  );
  console.log('');
  const cpuTotal = r.cpu.reduce((n, [, s]) => n + s, 0);
  printTable(
    ['server CPU during ingest, by thread', 'seconds', 'µs/span', 'share'],
    r.cpu.slice(0, 8).map(([name, s]) => [name, s.toFixed(1), ((s * 1e6) / stored).toFixed(2), `${((100 * s) / cpuTotal).toFixed(0)}%`]),
  );
  console.log(`total ${cpuTotal.toFixed(1)} s CPU = ${((cpuTotal * 1e6) / stored).toFixed(2)} µs/span over ${r.ingestS.toFixed(1)} s wall (${(cpuTotal / r.ingestS).toFixed(2)} cores busy)`);
  const others = r.machine.busyS - cpuTotal - r.machine.benchS;
  console.log(
    `machine during ingest: ${(r.machine.busyS / r.ingestS).toFixed(2)} of ${CORES} cores busy — server ${(cpuTotal / r.ingestS).toFixed(2)}, ` +
      `load generator ${(r.machine.benchS / r.ingestS).toFixed(2)}, other processes ${(Math.max(0, others) / r.ingestS).toFixed(2)}; ` +
      `load average ${r.machine.load[0].toFixed(1)} → ${r.machine.load[1].toFixed(1)}`,
  );
  console.log('');
  if (r.checker.present) {
    const c = r.checker;
    console.log(
      `chain checker: ${c.drained ? 'done' : 'NOT done'} ${c.seconds.toFixed(1)} s after the last span was stored ` +
        `(server CPU meanwhile ${r.checkerCpuS.toFixed(1)} s); ${fmt(c.tracesChecked)} trace checks; ` +
        `${fmt(c.refusedTraces)} traces refused by the full buffer (checked from the store), ${fmt(c.droppedRechecks)} of them or of re-checks not checked (queue full); ` +
        `findings: ${c.findings.length === 0 ? 'none' : c.findings.map(([rule, n]) => `${rule} ${fmt(n)}`).join(', ')}`,
    );
    console.log('queries below were timed after it was done');
    console.log('');
  }
  const files = (u: DiskUsage): string => u.files.slice(0, 4).map(([f, b]) => `${f} ${mb(b)}`).join(', ');
  printTable(
    ['on disk', 'store bytes', 'store bytes/span', 'data dir bytes/span', 'files'],
    [
      ['all stored, server running', fmt(storeBytes(r.live)), (storeBytes(r.live) / stored).toFixed(1), (r.live.total / stored).toFixed(1), files(r.live)],
      ['after clean shutdown', fmt(storeBytes(r.closed)), (storeBytes(r.closed) / stored).toFixed(1), (r.closed.total / stored).toFixed(1), files(r.closed)],
    ],
  );
  console.log('store = the DuckDB file and its WAL; the data dir adds the server\'s write-ahead log (wal/)');
  console.log('');
  const sb = r.storeBytes;
  printTable(
    ['store file after shutdown, by column group', 'bytes', 'bytes/span', 'share'],
    [
      ...sb.groups.map((g) => [g.label, fmt(g.bytes), (g.bytes / stored).toFixed(1), `${((100 * g.bytes) / sb.fileBytes).toFixed(1)}%`]),
      ['whole file', fmt(sb.fileBytes), (sb.fileBytes / stored).toFixed(1), '100%'],
      ['same rows as Parquet, zstd (DuckDB COPY)', fmt(sb.parquetZstdBytes), (sb.parquetZstdBytes / stored).toFixed(1), `${((100 * sb.parquetZstdBytes) / sb.fileBytes).toFixed(1)}%`],
    ],
  );
  console.log(`largest columns: ${sb.columns.slice(0, 12).map(([c, b]) => `${c} ${(b / stored).toFixed(1)}`).join(', ')} (bytes/span; Parquet copy took ${sb.parquetSeconds.toFixed(1)} s)`);
  console.log('');
  printTable(
    ['query (one at a time, after 5 warm-ups)', 'runs', 'p50 ms', 'p99 ms', 'max ms', 'hits'],
    r.timings.map((t) => [t.name, t.runs, t.p50.toFixed(2), t.p99.toFixed(2), t.max.toFixed(2), t.meanHits.toFixed(1)]),
  );
}

/**
 * The profile's tables; returns the JavaScript thread's µs/span by step during ingest (first request
 * to all stored), for the JSON line. V8 samples by wall-clock time: on a loaded machine a thread
 * waiting for a core still collects samples, so the profile gives each step's share, and the
 * thread's CPU time (from /proc, `mainCpuS`) the µs.
 */
function printProfile(dir: string, window: ProfileWindow, stored: number, mainCpuS: number): Record<string, number> | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    files = [];
  }
  if (files.length === 0) {
    console.log('(no CPU profile was written)');
    return undefined;
  }
  const file = join(dir, files[0]!);
  const p = summarizeProfile(file);
  console.log('');
  printTable(['server JavaScript thread, self time by source', 'ms', 'share'], p.byFile.map(([k, ms]) => [k, Math.round(ms), `${((100 * ms) / p.totalMs).toFixed(1)}%`]));
  console.log('');
  printTable(['heaviest functions', 'ms', 'share'], p.byFunction.map(([k, ms]) => [k, Math.round(ms), `${((100 * ms) / p.totalMs).toFixed(1)}%`]));
  console.log('');
  const s = profileSteps(file, window);
  const us = (ms: number): number => Number(((mainCpuS * 1e6 * (ms / s.busyMs)) / stored).toFixed(2));
  printTable(
    ['JavaScript thread during ingest, by step', 'sampled ms', 'share', 'CPU µs/span'],
    [
      ...s.steps.filter(([, ms]) => ms > 0).map(([step, ms]) => [step, Math.round(ms), `${((100 * ms) / s.busyMs).toFixed(1)}%`, us(ms).toFixed(2)]),
      ['busy (idle left out)', Math.round(s.busyMs), '100%', us(s.busyMs).toFixed(2)],
    ],
  );
  console.log('CPU µs/span = the step\'s share of the samples × the thread\'s CPU time (/proc) ÷ spans');
  console.log(`profile: ${file} (idle during ingest: ${Math.round(s.idleMs)} ms; ingest window on the monotonic clock: ${window.fromUs} to ${window.toUs} µs)`);
  const out: Record<string, number> = { busy: us(s.busyMs) };
  // JSON keys: the step's name up to its first bracket or comma, in snake case (`checker_feed`, `metrics`).
  for (const [step, ms] of s.steps) out[step.split(/ \(|,/)[0]!.replaceAll(' ', '_').toLowerCase()] = us(ms);
  return out;
}

await main();
