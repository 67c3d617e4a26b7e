/**
 * bench:chain-checker — CPU per span of the server's streaming chain checker as an agent runs it
 * (`ChainChecker` with the host-local rules, an embedded store for its findings): `spansStored` (the
 * feed), its rounds (take, merge, rules) and the findings writes. bench:federated measures the
 * agent's whole process with and without the checker; this isolates the checker from ingest so that
 * a change to it can be measured on a loaded machine. Spans are bench:federated's 5-hop chains (20
 * spans a trace), made before the clock starts; the checker's clock is a manual one moved 5 ms per
 * batch of 500 spans (100,000 spans/s), a round every 100 ms of it. CPU is the whole process's (user
 * + system, every thread, so DuckDB's part of the findings writes counts). Each run is also made
 * with a store that discards findings writes, alternating, so the writes' share shows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTraceIdGenerator, decodeNativeJson, encodeNativeJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { ChainChecker, resolveChecker } from '@linktrace/server';
import { chainSpans } from './federated-chain.js';
import { envInt, median, printResult, printTable } from './stats.js';

const SPANS = envInt('BENCH_SPANS', 60_000);
const RUNS = envInt('BENCH_RUNS', 3);
const BATCH = 500;
const BATCH_MS = 5;
const ROUND_EVERY = 20;
const CHECK_DELAY_MS = 2000;
const newTraceId = createTraceIdGenerator({ ipv4: '10.20.30.40', port: 5000 });

/**
 * Batches of decoded spans, as the agent's receiver hands them on: encoded to native JSON and
 * decoded (objects of the decoder's shape, not the literals the chains are written as).
 */
function makeBatches(nowMs: number): Span[][] {
  const batches: Span[][] = [];
  // As bench:federated: traces that started 30 s ago, past their deadlines (no re-check waits).
  let startUs = nowMs * 1000 - 30_000_000;
  let spans = 0;
  let pending: Span[] = [];
  while (spans < SPANS) {
    const chain = chainSpans(newTraceId(), 5, (startUs += 3000)).flat();
    pending.push(...chain);
    spans += chain.length;
    if (pending.length >= BATCH || spans >= SPANS) {
      const decoded = decodeNativeJson(JSON.parse(JSON.stringify(encodeNativeJson(pending))));
      if (decoded.rejected > 0) throw new Error(`decode: ${decoded.errors.join('; ')}`);
      batches.push(decoded.spans);
      pending = [];
    }
  }
  return batches;
}

interface RunFigures {
  cpuUsPerSpan: number;
  feedUsPerSpan: number;
  roundsUsPerSpan: number;
  traces: number;
  findings: number;
}

async function run(discardWrites: boolean): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'linktrace-bench-checker-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  let nowMs = Date.now();
  const checker = new ChainChecker({
    store: discardWrites ? { getTraces: (ids) => store.getTraces(ids), findTraces: (q) => store.findTraces(q), findFindings: (f) => store.findFindings(f), replaceFindings: () => Promise.resolve() } : store,
    options: resolveChecker({ checkDelayMs: CHECK_DELAY_MS, hostLocal: true }),
    dataDir: dir,
    clock: () => nowMs,
  });
  try {
    await checker.start();
    const batches = makeBatches(nowMs);
    const spanCount = batches.reduce((n, b) => n + b.length, 0);
    const traces = spanCount / 20;
    let feedNs = 0n;
    let roundsNs = 0n;
    const round = async (): Promise<void> => {
      const t = process.hrtime.bigint();
      await checker.checkNow();
      roundsNs += process.hrtime.bigint() - t;
    };
    // The decoded spans to old space first: a young-generation collection during the feed would
    // otherwise copy all of them, a cost of the bench (an agent lets a batch go once stored).
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:chain-checker does)');
    gc();
    const cpu0 = process.cpuUsage();
    for (let b = 0; b < batches.length; b++) {
      const t = process.hrtime.bigint();
      checker.spansStored(batches[b]!);
      feedNs += process.hrtime.bigint() - t;
      nowMs += BATCH_MS;
      if (b % ROUND_EVERY === ROUND_EVERY - 1) await round();
    }
    nowMs += CHECK_DELAY_MS + 1000;
    for (let k = 0; k < 100 && checker.status().checkedTraces < traces; k++) await round();
    const cpu = process.cpuUsage(cpu0);
    const status = checker.status();
    if (status.checkedTraces !== traces) throw new Error(`checked ${status.checkedTraces} of ${traces} traces`);
    return {
      cpuUsPerSpan: (cpu.user + cpu.system) / spanCount,
      feedUsPerSpan: Number(feedNs) / 1000 / spanCount,
      roundsUsPerSpan: Number(roundsNs) / 1000 / spanCount,
      traces,
      findings: status.findings,
    };
  } finally {
    await checker.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await run(false); // warm-up: let the JIT settle
  const stored: RunFigures[] = [];
  const discarded: RunFigures[] = [];
  for (let r = 0; r < RUNS; r++) {
    stored.push(await run(false));
    discarded.push(await run(true));
    process.stderr.write(`run ${r + 1}/${RUNS}\r`);
  }
  process.stderr.write('\n');
  const m = (xs: RunFigures[], f: (x: RunFigures) => number): number => Math.round(median(xs.map(f)) * 100) / 100;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`bench:chain-checker — ${SPANS} spans (${stored[0]!.traces} 5-hop traces) per run, ${RUNS} runs each, median; load ${load}`);
  printTable(
    ['figure', 'findings stored', 'findings writes discarded'],
    [
      ['process CPU µs/span (all threads)', m(stored, (x) => x.cpuUsPerSpan), m(discarded, (x) => x.cpuUsPerSpan)],
      ['  spansStored wall µs/span', m(stored, (x) => x.feedUsPerSpan), m(discarded, (x) => x.feedUsPerSpan)],
      ['  rounds wall µs/span', m(stored, (x) => x.roundsUsPerSpan), m(discarded, (x) => x.roundsUsPerSpan)],
      ['findings per run', stored[0]!.findings, discarded[0]!.findings],
    ],
  );
  printResult({
    checker_cpu_us_per_span: m(stored, (x) => x.cpuUsPerSpan),
    checker_cpu_us_per_span_no_writes: m(discarded, (x) => x.cpuUsPerSpan),
    feed_us_per_span: m(stored, (x) => x.feedUsPerSpan),
    rounds_us_per_span: m(stored, (x) => x.roundsUsPerSpan),
    spans: SPANS,
    runs: RUNS,
    load,
  });
}

await main();
