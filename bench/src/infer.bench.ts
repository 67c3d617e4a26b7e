/**
 * `npm run bench:infer`: black-box inference (docs/inference.md) against ground truth. The seeded
 * generator (@linktrace/analysis/testing) writes access logs of concurrent request trees with
 * replicas, parallel and optional calls, lognormal latencies, per-host clock skew, keep-alive
 * connections and missing fields, plus the true parent of every `in` record. The sweep runs
 * concurrency (mean requests in flight per instance) 0.01 → 1.0 × skew 0 / ±1 / ±5 ms, with peer
 * addresses and timing only, and scores link precision / recall / F1, whole-trace exact rate and
 * calibration error (ECE) next to the two naive baselines, in the same process. Then one long log
 * (BENCH_THROUGHPUT_TRACES root requests) is written as a JSON-lines file and `linktrace infer` runs
 * on it in a process of its own (stream read, parse, infer, links written to a file): lines per
 * CPU second of that process (every thread: GC helpers and JIT included), with its start-up taken
 * off (an empty file's run) and whole, its peak RSS, and the most records held at once against the
 * file's length (memory follows the window, not the file). The same again on a large log
 * (BENCH_THROUGHPUT_LARGE_LINES, default 2 000 000 lines; 0 skips it), generated segment by segment
 * into a temp file, where the JIT's warm-up and the first block's fixed costs are a small share.
 * Last line JSON.
 *
 * BENCH_TRACES (default 1000) root requests per sweep cell; BENCH_SEED (default 1).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LinkInferrer } from '@linktrace/analysis';
import { connectionBaseline, generateLogs, nestingBaseline, scoreLinks, type LinkScore } from '@linktrace/analysis/testing';
import { envInt, printResult, printTable } from './stats.js';

const TRACES = envInt('BENCH_TRACES', 1000);
const SEED = envInt('BENCH_SEED', 1);
const THROUGHPUT_TRACES = envInt('BENCH_THROUGHPUT_TRACES', 8000);
/** Lines of the large throughput log (the target is about long files, where warm-up is a small share); 0 skips it. */
const THROUGHPUT_LARGE_LINES = process.env.BENCH_THROUGHPUT_LARGE_LINES?.trim() === '0' ? 0 : envInt('BENCH_THROUGHPUT_LARGE_LINES', 2_000_000);
const CONCURRENCY = [0.01, 0.05, 0.13, 0.5, 1.0];
const SKEWS_US = [0, 1000, 5000];

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

interface Cell {
  peers: boolean;
  concurrency: number;
  skewUs: number;
  inFlight: number;
  ours: LinkScore;
  nesting: LinkScore;
  connection: LinkScore;
  linesPerCpuS: number;
}

function runCell(peers: boolean, concurrency: number, skewUs: number, seed: number): Cell {
  const g = generateLogs({ seed, concurrency, skewUs, peers, traces: TRACES });
  const parent: (number | null)[] = new Array(g.records.length);
  const confidence: number[] = new Array(g.records.length);
  const inferrer = new LinkInferrer({
    link(l) {
      parent[l.record] = l.parent;
      confidence[l.record] = l.confidence;
    },
  });
  const t0 = cpuUs();
  for (const r of g.records) inferrer.push(r);
  inferrer.finish();
  const spent = cpuUs() - t0;
  return {
    peers,
    concurrency,
    skewUs,
    inFlight: g.inFlight,
    ours: scoreLinks(g.truth, parent, confidence),
    nesting: scoreLinks(g.truth, nestingBaseline(g.records)),
    connection: scoreLinks(g.truth, connectionBaseline(g.records)),
    linesPerCpuS: g.records.length / (spent / 1e6),
  };
}

interface Throughput {
  lines: number;
  /** Lines per CPU second of `linktrace infer`, its fixed start-up (an empty file's run) taken off. */
  linesPerCpuS: number;
  /** The same with the start-up included (the whole process). */
  linesPerCpuSWhole: number;
  startupCpuMs: number;
  peakHeld: number;
  maxRssMiB: number;
  f1: number;
}

/** One `linktrace infer <file> --out <links>` process: its CPU time (every thread) and peak RSS, reported at exit. */
function runCli(dir: string, file: string, out: string): { cpuUs: number; maxRssKiB: number; report: string } {
  const preload = join(dir, 'cpu-at-exit.mjs');
  writeFileSync(
    preload,
    "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nBENCH_CPU ${JSON.stringify({ cpuUs: u.user + u.system, maxRssKiB: process.resourceUsage().maxRSS })}\\n`); });\n",
  );
  const bin = fileURLToPath(new URL('../../bin/linktrace.js', import.meta.resolve('@linktrace/server')));
  const res = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, bin, 'infer', file, '--out', out], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 900_000 });
  const m = /BENCH_CPU (\{.*\})/.exec(res.stderr);
  if (res.status !== 0 || m === null) throw new Error(`linktrace infer failed (${res.status}): ${res.stderr}`);
  return { ...(JSON.parse(m[1]!) as { cpuUs: number; maxRssKiB: number }), report: res.stderr };
}

/**
 * Writes the throughput log as JSON lines: segments of THROUGHPUT_TRACES root requests from the
 * seeded generator (seed SEED + 99 + k), each starting 10 ms after the one before ends and keeping
 * the first segment's host clocks, until at least `minLines` lines — so a long log costs the bench
 * one segment's memory. The first segment alone is the bench's default log. Returns the true
 * parents by line of the whole file.
 */
function writeThroughputLog(file: string, minLines: number): (number | null | undefined)[] {
  const truth: (number | null | undefined)[] = [];
  const fd = openSync(file, 'w');
  try {
    let startUs: number | undefined;
    let skews: ReadonlyMap<string, number> | undefined;
    for (let k = 0; truth.length < minLines; k++) {
      const g = generateLogs({ seed: SEED + 99 + k, concurrency: 0.13, skewUs: 1000, peers: true, traces: THROUGHPUT_TRACES, startUs, skews });
      const base = truth.length;
      for (const p of g.truth) truth.push(p === null || p === undefined ? p : p + base);
      let endUs = 0;
      for (let i = 0; i < g.records.length; i += 10_000) {
        const chunk = g.records.slice(i, i + 10_000).map(({ line: _line, startUs, endUs, ...r }) => `${JSON.stringify({ ...r, start: startUs, end: endUs })}\n`);
        writeSync(fd, chunk.join(''));
      }
      for (const r of g.records) endUs = Math.max(endUs, r.endUs);
      startUs = endUs + 10_000;
      skews ??= g.skews;
    }
  } finally {
    closeSync(fd);
  }
  return truth;
}

/**
 * `linktrace infer <file> --out <links>` as a user runs it, in a process of its own: stream read,
 * parse, infer, links written. CPU time of that process (all its threads: GC helpers and JIT
 * included), with and without its start-up (loading the CLI), measured on an empty file.
 */
function throughput(dir: string, minLines: number, startupUs: number): Throughput {
  const file = join(dir, 'logs.jsonl');
  const out = join(dir, 'links.jsonl');
  try {
    const truth = writeThroughputLog(file, minLines);
    const lines = truth.length;
    const run = runCli(dir, file, out);
    const parent: (number | null)[] = new Array(lines);
    for (const l of readFileSync(out, 'utf8').split('\n')) {
      if (l === '') continue;
      const o = JSON.parse(l) as { record: number; parent: number | null };
      parent[o.record] = o.parent;
    }
    const held = /at most (\d+) records held/.exec(run.report);
    return {
      lines,
      linesPerCpuS: lines / ((run.cpuUs - startupUs) / 1e6),
      linesPerCpuSWhole: lines / (run.cpuUs / 1e6),
      startupCpuMs: startupUs / 1000,
      peakHeld: held === null ? NaN : Number(held[1]),
      maxRssMiB: run.maxRssKiB / 1024,
      f1: scoreLinks(truth, parent).f1,
    };
  } finally {
    rmSync(file, { force: true });
    rmSync(out, { force: true });
  }
}

/** The bench's log (one segment) and, unless BENCH_THROUGHPUT_LARGE_LINES=0, the large one. */
function throughputs(): { small: Throughput; large: Throughput | undefined } {
  const dir = mkdtempSync(join(tmpdir(), 'linktrace-infer-bench-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const out = join(dir, 'links.jsonl');
    // The start-up's CPU varies little; the smaller of two runs.
    const startupUs = Math.min(runCli(dir, empty, out).cpuUs, runCli(dir, empty, out).cpuUs);
    const small = throughput(dir, 1, startupUs);
    const large = THROUGHPUT_LARGE_LINES === 0 ? undefined : throughput(dir, THROUGHPUT_LARGE_LINES, startupUs);
    return { small, large };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describe(t: Throughput): string {
  return (
    `\`linktrace infer\` on a file of ${t.lines} JSON lines, in its own process (read + parse + infer + write): ` +
    `${Math.round(t.linesPerCpuS)} lines per CPU second without its start-up (${t.startupCpuMs.toFixed(0)} ms of CPU), ${Math.round(t.linesPerCpuSWhole)} with it; ` +
    `at most ${t.peakHeld} records held (${((100 * t.peakHeld) / t.lines).toFixed(1)} % of the file), peak RSS ${t.maxRssMiB.toFixed(0)} MiB; F1 ${f(t.f1)}`
  );
}

function f(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function main(): void {
  const cells: Cell[] = [];
  for (const peers of [true, false]) for (const c of CONCURRENCY) for (const s of SKEWS_US) cells.push(runCell(peers, c, s, SEED));
  printTable(
    ['input', 'in flight', 'skew', 'F1', 'precision', 'recall', 'exact', 'ECE', 'F1 nesting', 'F1 conn.', 'exact nesting', 'exact conn.', 'lines/cpu-s'],
    cells.map((c) => [
      c.peers ? 'peers' : 'timing',
      f(c.inFlight, 2),
      c.skewUs === 0 ? '0' : `±${c.skewUs / 1000} ms`,
      f(c.ours.f1),
      f(c.ours.precision),
      f(c.ours.recall),
      f(c.ours.exactTraces),
      f(c.ours.ece),
      f(c.nesting.f1),
      c.peers ? f(c.connection.f1) : '-',
      f(c.nesting.exactTraces),
      c.peers ? f(c.connection.exactTraces) : '-',
      Math.round(c.linesPerCpuS),
    ]),
  );
  const at = (peers: boolean, c: number): Cell[] => cells.filter((x) => x.peers === peers && x.concurrency === c);
  const peers05 = at(true, 0.5);
  const timing013 = at(false, 0.13).find((x) => x.skewUs === 5000)!;
  const minF1Peers = Math.min(...peers05.map((x) => x.ours.f1));
  const minExactPeers = Math.min(...peers05.map((x) => x.ours.exactTraces));
  const maxEce = Math.max(...cells.map((x) => x.ours.ece));
  const { small: t, large } = throughputs();
  console.log(`\nthroughput: ${describe(t)}`);
  if (large !== undefined) console.log(`throughput, large log: ${describe(large)}`);
  const targets = {
    peers05F1: minF1Peers >= 0.99,
    peers05Exact: minExactPeers >= 0.9,
    timing013Skew5F1: timing013.ours.f1 >= 0.95,
    ece: maxEce <= 0.05,
    throughput: (large ?? t).linesPerCpuS >= 100_000,
  };
  console.log(`targets: ${Object.entries(targets).map(([k, v]) => `${k} ${v ? 'met' : 'MISSED'}`).join(', ')}`);
  printResult({
    bench: 'infer',
    traces: TRACES,
    seed: SEED,
    peers05MinF1: Number(minF1Peers.toFixed(4)),
    peers05MinExact: Number(minExactPeers.toFixed(4)),
    peers05ConnectionF1: Number(Math.min(...peers05.map((x) => x.connection.f1)).toFixed(4)),
    peers05ConnectionExact: Number(Math.min(...peers05.map((x) => x.connection.exactTraces)).toFixed(4)),
    timing013Skew5F1: Number(timing013.ours.f1.toFixed(4)),
    timing013Skew5NestingF1: Number(timing013.nesting.f1.toFixed(4)),
    maxEce: Number(maxEce.toFixed(4)),
    minF1: Number(Math.min(...cells.map((x) => x.ours.f1)).toFixed(4)),
    linesPerCpuS: Math.round(t.linesPerCpuS),
    linesPerCpuSWhole: Math.round(t.linesPerCpuSWhole),
    startupCpuMs: Math.round(t.startupCpuMs),
    throughputLines: t.lines,
    peakHeld: t.peakHeld,
    maxRssMiB: Math.round(t.maxRssMiB),
    ...(large === undefined
      ? {}
      : {
          linesPerCpuSLarge: Math.round(large.linesPerCpuS),
          linesPerCpuSWholeLarge: Math.round(large.linesPerCpuSWhole),
          throughputLinesLarge: large.lines,
          peakHeldLarge: large.peakHeld,
          maxRssMiBLarge: Math.round(large.maxRssMiB),
          f1Large: Number(large.f1.toFixed(4)),
        }),
    allTargetsMet: Object.values(targets).every(Boolean),
  });
}

main();
