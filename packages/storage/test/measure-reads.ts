/**
 * Read latencies of the block store against the embedded (DuckDB) store on the same spans (issue
 * 12, item 3: reads stay fast while writes get cheap). Not a test; run after a build:
 *   node packages/storage/dist/test/measure-reads.js [spans=500000] [lookups=200]
 * Writes the realistic spans into each store (calls of 8 192 spans, the block store compacting in
 * the background as in `serve`), waits until everything is stored and compacted, then times trace
 * by id, a service + operation search and an attribute search (p50 / p99 ms, one query at a
 * time). Each query runs on one store then the other, alternately, so that a machine whose load
 * changes (other processes) weighs on both alike. Then it writes 65 536 more spans, an hour
 * later (8 calls: micro-blocks not yet compacted, the block store's head), and times lookups of
 * those recent traces and searches over that state. `MEASURE_HEAD_ROWS=0` turns the block store's
 * head off (recent lookups then read the micro-block files); `MEASURE_JS_COMPACTION=1` compacts
 * micro-blocks in JS (`jsCompaction`). Prints a table, then one JSON line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Span } from '@linktrace/model';
import { openBlockStore } from '../src/blocks/block-store.js';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import type { SpanStore, TraceQuery } from '../src/types.js';
import { realisticSpanStream } from './support/realistic-spans.js';

const count = Number(process.argv[2] ?? 500_000);
const lookups = Number(process.argv[3] ?? 200);
const BATCH = 8192;
const RECENT = 8 * BATCH;
const headRows = process.env.MEASURE_HEAD_ROWS === undefined ? undefined : Number(process.env.MEASURE_HEAD_ROWS);
const jsCompaction = process.env.MEASURE_JS_COMPACTION === '1';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Times `fn` on each store in turn, `runs` times: p50 / p99 ms per store. */
async function timedPair(runs: number, stores: readonly SpanStore[], fn: (s: SpanStore, i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }[]> {
  const ms: number[][] = stores.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < stores.length; k++) {
      const t0 = performance.now();
      await fn(stores[k]!, i);
      ms[k]!.push(performance.now() - t0);
    }
  }
  const r = (x: number): number => Number(x.toFixed(1));
  return ms.map((m) => {
    m.sort((a, b) => a - b);
    return { p50: r(percentile(m, 50)), p99: r(percentile(m, 99)) };
  });
}

interface Inputs {
  traceIds: string[];
  keys: string[];
}

async function fill(store: SpanStore, inputs: Inputs | undefined, spans: Iterable<Span> = realisticSpanStream({ count })): Promise<number> {
  const t0 = performance.now();
  let chunk: Span[] = [];
  let n = 0;
  for (const s of spans) {
    if (inputs !== undefined && n % 101 === 0) inputs.traceIds.push(s.traceId);
    if (inputs !== undefined && n % 997 === 0) inputs.keys.push(s.attributes['linktrace.entity.key'] as string);
    n++;
    chunk.push(s);
    if (chunk.length === BATCH) {
      await store.writeSpans(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await store.writeSpans(chunk);
  return performance.now() - t0;
}

async function measure(stores: readonly SpanStore[], inputs: Inputs): Promise<Record<string, { p50: number; p99: number }>[]> {
  const pickTrace = (i: number): string => inputs.traceIds[(i * 7919) % inputs.traceIds.length]!;
  for (const s of stores) await s.getTrace(pickTrace(0));
  const byId = await timedPair(lookups, stores, (s, i) => s.getTrace(pickTrace(i + 1)));
  const services = await stores[0]!.services();
  const ops = await Promise.all(services.map(async (s) => ({ s, ops: await stores[0]!.operations(s) })));
  const svcOp: TraceQuery[] = ops.flatMap(({ s, ops }) => ops.slice(0, 3).map((o) => ({ service: s, operation: o.name, limit: 20 })));
  const search = await timedPair(Math.max(20, lookups / 5), stores, (s, i) => s.findTraces(svcOp[i % svcOp.length]!));
  const attr = await timedPair(Math.max(20, lookups / 10), stores, (s, i) => s.findTraces({ attributes: { 'linktrace.entity.key': inputs.keys[i % inputs.keys.length]! }, limit: 20 }));
  return stores.map((_, k) => ({ trace_by_id_ms: byId[k]!, search_service_operation_ms: search[k]!, attribute_search_ms: attr[k]! }));
}

/** Lookups of the traces just written (not compacted yet), and searches over that state. */
async function measureRecent(stores: readonly SpanStore[], recent: Inputs): Promise<Record<string, { p50: number; p99: number }>[]> {
  const pickTrace = (i: number): string => recent.traceIds[(i * 7919) % recent.traceIds.length]!;
  const byId = await timedPair(lookups, stores, (s, i) => s.getTrace(pickTrace(i)));
  const services = await stores[0]!.services();
  const search = await timedPair(Math.max(20, lookups / 5), stores, (s, i) => s.findTraces({ service: services[i % services.length]!, limit: 20 }));
  return stores.map((_, k) => ({ recent_trace_by_id_ms: byId[k]!, recent_search_service_ms: search[k]! }));
}

const dirs: string[] = [];
try {
  const inputs: Inputs = { traceIds: [], keys: [] };
  const result: Record<string, unknown> = { spans: count, lookups, head_rows: headRows ?? 'default', js_compaction: jsCompaction };
  const stores: SpanStore[] = [];
  try {
    for (const kind of ['blocks', 'duckdb'] as const) {
      const dataDir = await mkdtemp(join(tmpdir(), `lt-measure-reads-${kind}-`));
      dirs.push(dataDir);
      const store = kind === 'blocks' ? await openBlockStore({ dataDir, jsCompaction, ...(headRows === undefined ? {} : { headRows }) }) : await openEmbeddedStore({ dataDir });
      stores.push(store);
      const writeMs = await fill(store, kind === 'blocks' ? inputs : undefined);
      if (kind === 'blocks') {
        const blocks = store as Awaited<ReturnType<typeof openBlockStore>>;
        await blocks.flush();
        await blocks.compact();
        result.blocks_files = blocks.blockFiles().length;
      } else await (store as Awaited<ReturnType<typeof openEmbeddedStore>>).checkpoint();
      const stats = await store.stats();
      result[kind] = { write_s: Number((writeMs / 1000).toFixed(1)), bytes_per_span: Number((stats.diskBytes / count).toFixed(1)) };
    }
    const figures = await measure(stores, inputs);
    const recent: Inputs = { traceIds: [], keys: [] };
    for (const [k, s] of stores.entries()) await fill(s, k === 0 ? recent : undefined, realisticSpanStream({ count: RECENT, seed: 2, startUs: 1_704_070_800_000_000 }));
    result.blocks_micro_blocks = (stores[0] as Awaited<ReturnType<typeof openBlockStore>>).blockFiles().filter((f) => f.level === 0).length;
    const late = await measureRecent(stores, recent);
    result.blocks = { ...(result.blocks as object), ...figures[0], ...late[0] };
    result.duckdb = { ...(result.duckdb as object), ...figures[1], ...late[1] };
  } finally {
    for (const s of stores) await s.close();
  }
  console.log(`reads, ${count} realistic spans, block store against the embedded store:`);
  for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(12)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  console.log(JSON.stringify(result));
} finally {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
