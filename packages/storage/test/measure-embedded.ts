/**
 * Measures the embedded store on realistic spans: append rate, bytes per span on disk, and query
 * latencies. Not a test (no `.test` in the name); run after a build:
 *   node packages/storage/dist/test/measure-embedded.js [spans=200000] [batch=1000] [inFlight=64]
 * Writes go in like a server's: calls of `batch` spans, up to `inFlight` of them awaiting their
 * flush at once, with the store's default batching. Prints a table, then one JSON line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import type { TraceQuery } from '../src/types.js';
import type { Span } from '@linktrace/model';
import { realisticSpanStream } from './support/realistic-spans.js';

const count = Number(process.argv[2] ?? 200_000);
const batch = Number(process.argv[3] ?? 1000);
const inFlight = Number(process.argv[4] ?? 64);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timed(runs: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

const dataDir = await mkdtemp(join(tmpdir(), 'lt-measure-'));
try {
  const store = await openEmbeddedStore({ dataDir });
  // Query inputs are sampled while writing, so no more than a batch of spans is held at a time.
  const traceIds: string[] = [];
  const keys: string[] = [];
  let midUs = 0;
  const pending: Promise<void>[] = [];
  let chunk: Span[] = [];
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const s of realisticSpanStream({ count })) {
    if (n % 101 === 0) traceIds.push(s.traceId);
    if (n % 997 === 0) keys.push(s.attributes['linktrace.entity.key'] as string);
    if (n === count >> 1) midUs = s.startUs;
    n++;
    chunk.push(s);
    if (chunk.length === batch) {
      pending.push(store.writeSpans(chunk));
      chunk = [];
      if (pending.length >= inFlight) await pending.shift();
      // Like a server between requests: let the store's batches start while spans keep coming.
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (chunk.length > 0) pending.push(store.writeSpans(chunk));
  await Promise.all(pending);
  const appendMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await store.checkpoint();
  const stats = await store.stats();

  const pickTrace = (i: number): string => traceIds[(i * 7919) % traceIds.length]!;
  // Warm the read path once so the first query's setup does not count as latency.
  await store.getTrace(pickTrace(0));
  const byId = await timed(200, (i) => store.getTrace(pickTrace(i)));
  const services = await store.services();
  const ops = await Promise.all(services.map(async (s) => ({ s, ops: await store.operations(s) })));
  const svcOp: TraceQuery[] = ops.flatMap(({ s, ops }) => ops.slice(0, 3).map((o) => ({ service: s, operation: o.name, limit: 20 })));
  const bySvcOp = await timed(40, (i) => store.findTraces(svcOp[i % svcOp.length]!));
  const byAttr = await timed(40, (i) => store.findTraces({ attributes: { 'linktrace.entity.key': keys[i % keys.length]! }, limit: 20 }));
  const byAttrSvc = await timed(40, (i) =>
    store.findTraces({ service: services[i % services.length]!, attributes: { 'http.status_code': 500, 'linktrace.stage': 'write' }, limit: 20 }),
  );
  const byResource = await timed(20, (i) => store.findTraces({ attributes: { 'host.name': `node-${i % 8}` }, limit: 20 }));
  const mid = midUs;
  const byDuration = await timed(20, (i) =>
    store.findTraces({ service: services[i % services.length]!, minDurationUs: 5000, maxDurationUs: 20_000, startUs: mid, endUs: mid + 10_000_000, limit: 20 }),
  );
  const deps = await timed(5, () => store.dependencies(0, Number.MAX_SAFE_INTEGER));
  await store.close();

  const figures = {
    spans: count,
    batch,
    inFlight,
    appendSpansPerSec: Math.round(count / (appendMs / 1000)),
    /** Process CPU (all threads: span generation, encoding, DuckDB) per span while appending. */
    appendCpuUsPerSpan: Number(((cpu.user + cpu.system) / count).toFixed(2)),
    bytesPerSpan: Number((stats.diskBytes / count).toFixed(1)),
    diskBytes: stats.diskBytes,
    traceByIdMs: byId,
    serviceOperationSearchMs: bySvcOp,
    attributeSearchMs: byAttr,
    serviceTwoAttributeSearchMs: byAttrSvc,
    resourceAttributeSearchMs: byResource,
    serviceDurationTimeSearchMs: byDuration,
    dependenciesMs: deps,
  };
  const f = (x: { p50: number; p99: number }): string => `p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms`;
  console.log(`embedded store, ${count} realistic spans (10 attributes each), calls of ${batch}, ${inFlight} in flight`);
  console.log(`  append                         ${figures.appendSpansPerSec} spans/s (${figures.appendCpuUsPerSpan} µs CPU/span, generation included)`);
  console.log(`  on disk                        ${figures.bytesPerSpan} bytes/span (${stats.diskBytes} bytes)`);
  console.log(`  trace by id                    ${f(byId)}`);
  console.log(`  service + operation            ${f(bySvcOp)}`);
  console.log(`  attribute (entity key)         ${f(byAttr)}`);
  console.log(`  service + 2 attributes         ${f(byAttrSvc)}`);
  console.log(`  resource attribute             ${f(byResource)}`);
  console.log(`  service + duration + time      ${f(byDuration)}`);
  console.log(`  dependencies (all time)        ${f(deps)}`);
  console.log(JSON.stringify(figures));
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
