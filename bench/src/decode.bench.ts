/**
 * bench:decode — the receivers' decode step alone, on bench:ingest's own request bodies (the same
 * generator and format mix: OTLP protobuf, gzip protobuf, JSON), three ways:
 *
 * - `main`: gunzip on libuv's pool and `decodeBody` on the JavaScript thread, as `linktrace serve` does;
 * - `workers`: gunzip + decode on `worker_threads` (BENCH_WORKERS, default 2), the spans posted back
 *   (structured clone: the main thread rebuilds every object and string);
 * - `workers, count only`: the same without sending the spans back, the floor a compact
 *   transferable form could approach (strings would still have to be made on the main thread).
 *
 * Figures per span: CPU of the JavaScript (main) thread and of the whole process (all threads,
 * /proc), and spans/s with BENCH_INFLIGHT bodies in flight. Last line: one JSON object.
 * Environment: BENCH_SPANS (default 200 000), BENCH_ROUNDS (3; the best round is kept),
 * BENCH_WORKERS (2), BENCH_INFLIGHT (8), BENCH_COMPARE_SERVER (another build's
 * `packages/server/dist/src/index.js`: its `decodeBody` is measured on the main thread too, in
 * rounds alternating with this build's, so that both see the same machine load).
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { decodeBody, WIRE_FORMAT, type WireFormat } from '@linktrace/server';
import { buildBatches, type RequestBody } from './ingest-batches.js';
import type { DecodeJob } from './decode-worker.js';
import { threadCpu } from './ingest-threads.js';
import { envInt, printResult, printTable } from './stats.js';

const SPANS = envInt('BENCH_SPANS', 200_000);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const WORKERS = envInt('BENCH_WORKERS', 2);
const INFLIGHT = envInt('BENCH_INFLIGHT', 8);
const COMPARE = process.env.BENCH_COMPARE_SERVER;
const gunzipAsync = promisify(gunzip);
type DecodeBody = typeof decodeBody;

interface Job {
  format: WireFormat;
  gzip: boolean;
  body: Uint8Array;
  spans: number;
}

function job(b: RequestBody): Job {
  return { format: b.format === 'json' ? WIRE_FORMAT.otlpJson : WIRE_FORMAT.otlpProto, gzip: b.format === 'protobuf+gzip', body: b.body, spans: b.spans };
}

/** CPU seconds of the main thread and of the whole process. */
function cpuNow(): { main: number; all: number } {
  const threads = threadCpu(process.pid);
  const u = process.cpuUsage();
  return { main: threads.find((t) => t.tid === process.pid)?.seconds ?? NaN, all: (u.user + u.system) / 1e6 };
}

/** Runs `one` over every job, `INFLIGHT` at a time; resolves with the decoded span count. */
async function drive(jobs: readonly Job[], one: (j: Job) => Promise<number>): Promise<number> {
  let next = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < jobs.length) {
        // Not `total += await …`: that reads `total` before the wait, losing the others' counts.
        const n = await one(jobs[next++]!);
        total += n;
      }
    }),
  );
  return total;
}

class Pool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, (n: number) => void>();
  private nextId = 0;
  private turn = 0;

  constructor(size: number, private readonly keepSpans: boolean) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(new URL('./decode-worker.js', import.meta.url));
      w.on('message', (m: { id: number; count: number; spans: unknown[] }) => {
        const done = this.waiting.get(m.id)!;
        this.waiting.delete(m.id);
        if (this.keepSpans && m.spans.length !== m.count) throw new Error(`worker sent ${m.spans.length} of ${m.count} spans`);
        done(m.count);
      });
      return w;
    });
  }

  decode(j: Job): Promise<number> {
    const id = this.nextId++;
    const w = this.workers[this.turn++ % this.workers.length]!;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      // A copy of the body goes (the server keeps its own for the write-ahead log).
      const message: DecodeJob = { id, format: j.format, gzip: j.gzip, body: j.body, keep: this.keepSpans };
      w.postMessage(message);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

interface Result {
  way: string;
  mainUs: number;
  allUs: number;
  spansPerS: number;
}

/** Each way's best round (least CPU); the ways' rounds alternate, round 0 of each warms up (JIT, workers' start). */
async function measure(jobs: readonly Job[], spans: number, ways: readonly [string, (j: Job) => Promise<number>][]): Promise<Result[]> {
  const best: (Result | undefined)[] = ways.map(() => undefined);
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const [w, [way, one]] of ways.entries()) {
      // The previous way's garbage is collected before the clock starts (`node --expose-gc`, as the npm script runs it).
      (globalThis as { gc?: () => void }).gc?.();
      const c0 = cpuNow();
      const t0 = performance.now();
      const n = await drive(jobs, one);
      const wall = (performance.now() - t0) / 1000;
      const c1 = cpuNow();
      if (n !== spans) throw new Error(`${way}: ${n} spans decoded of ${spans}`);
      if (r === 0) continue;
      const result = { way, mainUs: ((c1.main - c0.main) * 1e6) / spans, allUs: ((c1.all - c0.all) * 1e6) / spans, spansPerS: spans / wall };
      if (best[w] === undefined || result.allUs < best[w].allUs) best[w] = result;
    }
  }
  return best as Result[];
}

function onMainThread(decode: DecodeBody): (j: Job) => Promise<number> {
  return async (j) => {
    const bytes = j.gzip ? await gunzipAsync(j.body) : j.body;
    return decode(j.format, bytes).spans.length;
  };
}

async function main(): Promise<void> {
  const nowUs = Date.now() * 1000;
  const set = buildBatches({
    spans: SPANS,
    seed: 20_240_601,
    startUs: nowUs - 3_600_000_000,
    traceGapUs: (3_600_000_000 * 15.9) / 5_000_000,
    minBatch: 1000,
    maxBatch: 5000,
    jsonShare: 0.25,
    gzipShare: 0.25,
    maxBodyBytes: 4 * 1024 * 1024,
    samples: 1,
  });
  const jobs = set.bodies.map(job);
  const spans = set.spans;
  const load0 = loadavg()[0]!;
  const results: Result[] = [];
  const ways: [string, (j: Job) => Promise<number>][] = [['main thread (as serve does)', onMainThread(decodeBody)]];
  if (COMPARE !== undefined && COMPARE !== '') {
    const other = (await import(COMPARE)) as { decodeBody?: DecodeBody; WIRE_FORMAT?: unknown };
    // Builds from before bench:decode do not export it: their wire-format module has it.
    const decode = other.decodeBody ?? ((await import(COMPARE.replace(/index\.js$/, 'ingest/wire-format.js'))) as { decodeBody: DecodeBody }).decodeBody;
    ways.push([`main thread, ${COMPARE.replace(/\/packages\/server\/dist\/src\/index\.js$/, '')}`, onMainThread(decode)]);
  }
  results.push(...(await measure(jobs, spans, ways)));
  for (const keep of [true, false]) {
    const pool = new Pool(WORKERS, keep);
    try {
      results.push(...(await measure(jobs, spans, [[keep ? `${WORKERS} workers, spans back by structured clone` : `${WORKERS} workers, count only (floor)`, (j) => pool.decode(j)]])));
    } finally {
      await pool.close();
    }
  }
  const load1 = loadavg()[0]!;
  console.log(`bench:decode — ${spans.toLocaleString('en-US')} spans in ${jobs.length} OTLP requests (25 % JSON, 25 % gzip protobuf), ${INFLIGHT} in flight, best of ${ROUNDS} rounds; ${availableParallelism()} cores, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`);
  printTable(
    ['decode', 'JS thread µs/span', 'all threads µs/span', 'spans/s'],
    results.map((r) => [r.way, r.mainUs.toFixed(2), r.allUs.toFixed(2), Math.round(r.spansPerS).toLocaleString('en-US')]),
  );
  const m = results[0]!;
  const [w, f] = results.slice(-2) as [Result, Result];
  const c = results.length === 4 ? results[1]! : undefined;
  printResult({
    spans,
    workers: WORKERS,
    main_js_us_per_span: round2(m.mainUs),
    main_all_us_per_span: round2(m.allUs),
    main_spans_per_s: Math.round(m.spansPerS),
    workers_js_us_per_span: round2(w.mainUs),
    workers_all_us_per_span: round2(w.allUs),
    workers_spans_per_s: Math.round(w.spansPerS),
    workers_count_only_js_us_per_span: round2(f.mainUs),
    workers_count_only_all_us_per_span: round2(f.allUs),
    workers_count_only_spans_per_s: Math.round(f.spansPerS),
    ...(c === undefined ? {} : { compared_js_us_per_span: round2(c.mainUs), compared_all_us_per_span: round2(c.allUs) }),
    load_start: Number(load0.toFixed(1)),
    load_end: Number(load1.toFixed(1)),
  });
}

function round2(n: number): number {
  return Number(n.toFixed(2));
}

await main();
