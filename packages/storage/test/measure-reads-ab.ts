/**
 * Read latencies and CPU of two builds of the block store on the same compacted files, side by
 * side (issue 12: reads stay fast). Not a test; run after a build:
 *   node packages/storage/dist/test/measure-reads-ab.js <other build's packages/storage/dist> [spans=300000] [lookups=200]
 * Writes the realistic spans with this build (calls of 8 192 spans), compacts, copies the data
 * directory, opens one copy with the other build and one with this one, then times trace by id,
 * a service + operation search, a service + status=error search and an attribute search on each, alternately (a machine whose load
 * changes weighs on both alike): p50 / p99 ms and process CPU ms per query (queries run one at a
 * time, so the process CPU of a call is that query's, DuckDB's threads included). Prints a table,
 * then one JSON line.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Span } from '@linktrace/model';
import { openBlockStore } from '../src/blocks/block-store.js';
import type { SpanStore, TraceQuery } from '../src/types.js';
import { realisticSpanStream } from './support/realistic-spans.js';

const other = process.argv[2];
if (other === undefined) throw new Error('usage: measure-reads-ab.js <other build dist> [spans] [lookups]');
const count = Number(process.argv[3] ?? 300_000);
const lookups = Number(process.argv[4] ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Figures {
  p50: number;
  p99: number;
  cpu: number;
}

async function timedPair(runs: number, stores: readonly SpanStore[], fn: (s: SpanStore, i: number) => Promise<unknown>): Promise<Figures[]> {
  for (const s of stores) for (let i = 0; i < 2; i++) await fn(s, runs + i);
  const ms: number[][] = stores.map(() => []);
  const cpu = stores.map(() => 0);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < stores.length; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn(stores[k]!, i);
      ms[k]!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k]! += (c.user + c.system) / 1000;
    }
  }
  const r = (x: number): number => Number(x.toFixed(1));
  return ms.map((m, k) => {
    m.sort((a, b) => a - b);
    return { p50: r(percentile(m, 50)), p99: r(percentile(m, 99)), cpu: r(cpu[k]! / runs) };
  });
}

const dirs: string[] = [];
try {
  const dataDir = await mkdtemp(join(tmpdir(), 'lt-measure-reads-ab-'));
  dirs.push(dataDir);
  const traceIds: string[] = [];
  const keys: string[] = [];
  const writer = await openBlockStore({ dataDir });
  let chunk: Span[] = [];
  let n = 0;
  for (const s of realisticSpanStream({ count })) {
    if (n % 101 === 0) traceIds.push(s.traceId);
    if (n % 997 === 0) keys.push(s.attributes['linktrace.entity.key'] as string);
    n++;
    chunk.push(s);
    if (chunk.length === 8192) {
      await writer.writeSpans(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await writer.writeSpans(chunk);
  await writer.flush();
  await writer.compact();
  const files = writer.blockFiles().length;
  await writer.close();
  const copy = `${dataDir}-b`;
  dirs.push(copy);
  await cp(dataDir, copy, { recursive: true });
  const before = (await import(pathToFileURL(resolve(other, 'src/blocks/block-store.js')).href)) as { openBlockStore: typeof openBlockStore };
  const stores: SpanStore[] = [await before.openBlockStore({ dataDir: copy }), await openBlockStore({ dataDir })];
  const load = [loadavg()[0]!];
  try {
    const pick = (i: number): string => traceIds[(i * 7919) % traceIds.length]!;
    const services = await stores[1]!.services();
    const ops = await Promise.all(services.map(async (s) => ({ s, ops: await stores[1]!.operations(s) })));
    const svcOp: TraceQuery[] = ops.flatMap(({ s, ops }) => ops.slice(0, 3).map((o) => ({ service: s, operation: o.name, limit: 20 })));
    const byId = await timedPair(lookups, stores, (s, i) => s.getTrace(pick(i)));
    const search = await timedPair(Math.max(20, lookups / 4), stores, (s, i) => s.findTraces(svcOp[i % svcOp.length]!));
    const errors = await timedPair(Math.max(20, lookups / 4), stores, (s, i) => s.findTraces({ service: services[i % services.length]!, status: 'error', limit: 20 }));
    const attr = await timedPair(Math.max(20, lookups / 4), stores, (s, i) => s.findTraces({ attributes: { 'linktrace.entity.key': keys[i % keys.length]! }, limit: 20 }));
    load.push(loadavg()[0]!);
    const result = {
      spans: count,
      files,
      load,
      other: stores.map((_, k) => ({ trace_by_id_ms: byId[k], search_ms: search[k], error_search_ms: errors[k], attribute_search_ms: attr[k] }))[0],
      this: stores.map((_, k) => ({ trace_by_id_ms: byId[k], search_ms: search[k], error_search_ms: errors[k], attribute_search_ms: attr[k] }))[1],
    };
    console.log(`reads, ${count} realistic spans, ${files} files, load ${load.map((l) => l.toFixed(1)).join(' → ')} (p50 / p99 ms, CPU ms per query):`);
    for (const [kind, f] of [['trace by id', byId], ['search', search], ['service + error', errors], ['attribute search', attr]] as const) {
      const show = (x: Figures): string => `${x.p50} / ${x.p99}, cpu ${x.cpu}`;
      console.log(`  ${kind.padEnd(17)} other: ${show(f[0]!)}   this: ${show(f[1]!)}`);
    }
    console.log(JSON.stringify(result));
  } finally {
    for (const s of stores) await s.close();
  }
} finally {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
