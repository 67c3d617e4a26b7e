/**
 * Measures each step of the block store's write path in isolation, in µs per span, on realistic
 * spans (issue 12: "measure each step's µs/span"). Not a test; run after a build:
 *   node packages/storage/dist/test/measure-blocks.js [spans=245760] [block=8192] [order=duckdb-first]
 * Steps, for micro-blocks of `block` spans: encode (spans → columns), Parquet build without
 * compression and with zstd level 1 (each a whole build; by parquet-pages.ts, the output fields keep
 * their `hyparquet_` names to compare with older runs; the uncompressed build goes first and pays
 * the encode's garbage collection: measure-block-write.js times the store's order), fsync (write + fsync + rename),
 * then compaction of all the micro-blocks into one sorted file twice, from the same micro-blocks:
 * by DuckDB (block-copy.ts) and in JS from their head columns (head-compaction.ts: merge, Parquet
 * build at zstd levels 1 and 3, write, trace summaries by DuckDB), in the order `order` gives
 * (`duckdb-first` or `js-first`, to alternate runs). Each JS step is timed in CPU
 * time of the process (on a loaded machine wall time mostly measures waiting for a core), after one
 * block of warm-up; compaction also in wall time (it runs on DuckDB threads). Prints a table, then
 * one JSON line. Bytes per span are also given by column group (Parquet column chunk sizes, so page
 * headers count with their column; footers and the rest of the file under `file`), for the
 * micro-blocks and for the compacted file.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Span } from '@linktrace/model';
import { AttributeColumns } from '../src/embedded/attribute-columns.js';
import { BagRegistry, KeyRegistry } from '../src/embedded/bag-registry.js';
import { SpanRowEncoder } from '../src/embedded/span-row-encoder.js';
import { encodeBlock } from '../src/blocks/block-columns.js';
import type { BlockColumns } from '../src/blocks/block-columns.js';
import { COMPACTED_ROW_GROUP, copyBlocks, traceSummariesPath, writeTraceSummaries } from '../src/blocks/block-copy.js';
import { Head } from '../src/blocks/head-block.js';
import { COMPACTED_ZSTD_LEVEL, mergeHeadBlocks } from '../src/blocks/head-compaction.js';
import type { BlockFile } from '../src/blocks/manifest.js';
import { compactedParquetBytes, initZstd, parquetBytes, writeDurably } from '../src/blocks/parquet-file.js';
import { realisticSpanStream } from './support/realistic-spans.js';

const count = Number(process.argv[2] ?? 245_760);
const blockSize = Number(process.argv[3] ?? 8192);
const order = process.argv[4] ?? 'duckdb-first';
if (order !== 'duckdb-first' && order !== 'js-first') throw new Error('order: duckdb-first or js-first');

/** Column group of a block column (see block-columns.ts), for bytes per span by group. */
function groupOf(column: string): string {
  if (/^a\d+$/.test(column) || ['rest', 'kinds', 'resource', 'scope_attrs'].includes(column)) return 'attributes';
  if (['tid_hi', 'tid_lo', 't64', 'sid', 'pid', 'pdelta'].includes(column)) return 'ids';
  if (['start_us', 'duration_us'].includes(column)) return 'times';
  if (['side', 'extra', 'links'].includes(column)) return 'rare';
  if (['arrived_us', 'bseq'].includes(column)) return 'bookkeeping';
  return 'names';
}

/** Bytes per span of `files` by column group, from their Parquet metadata. */
async function bytesByGroup(c: DuckDBConnection, files: readonly string[], spans: number): Promise<Record<string, number>> {
  const list = files.map((f) => `'${f}'`).join(', ');
  const rows = (await c.runAndReadAll(`SELECT path_in_schema, sum(total_compressed_size)::DOUBLE FROM parquet_metadata([${list}]) GROUP BY ALL`)).getRowsJS();
  const out: Record<string, number> = { ids: 0, times: 0, names: 0, attributes: 0, rare: 0, bookkeeping: 0, file: 0 };
  let columns = 0;
  for (const [path, bytes] of rows) {
    const group = groupOf(String(path).split(', ')[0]!);
    out[group] = out[group]! + (bytes as number);
    columns += bytes as number;
  }
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  out.file = total - columns;
  for (const k of Object.keys(out)) out[k] = Number((out[k]! / spans).toFixed(2));
  return out;
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function main(): Promise<void> {
  await initZstd();
  const dir = await mkdtemp(join(tmpdir(), 'lt-measure-blocks-'));
  const spans: Span[] = [...realisticSpanStream({ count })];
  const columns = new AttributeColumns([]);
  const encoder = new SpanRowEncoder(columns, { resources: new BagRegistry(), scopes: new BagRegistry(), restKeys: new KeyRegistry(), sideKeys: new KeyRegistry() });
  const totals = { encode: 0, build: 0, zstd: 0, fsync: 0, bytesNone: 0, bytesZstd: 0 };
  const files: BlockFile[] = [];
  const head = new Head(count);
  try {
    // Warm-up: the JIT compiles the encoder and writer on a block that is not counted.
    const warm = encodeBlock(spans.slice(0, blockSize), encoder, () => columns.keys.length, 0, 0);
    parquetBytes(warm, 'none');
    parquetBytes(warm, 'zstd');
    for (let i = 0, seq = 1; i < spans.length; i += blockSize, seq++) {
      const part = spans.slice(i, i + blockSize);
      let t = cpuUs();
      const block: BlockColumns = encodeBlock(part, encoder, () => columns.keys.length, Date.now() * 1000, seq);
      columns.takeNew();
      totals.encode += cpuUs() - t;
      t = cpuUs();
      const plain = parquetBytes(block, 'none');
      totals.build += cpuUs() - t;
      t = cpuUs();
      const packed = parquetBytes(block, 'zstd');
      totals.zstd += cpuUs() - t;
      totals.bytesNone += plain.byteLength;
      totals.bytesZstd += packed.byteLength;
      const name = `b-${seq}.parquet`;
      t = performance.now();
      await writeDurably(join(dir, name), packed);
      totals.fsync += (performance.now() - t) * 1000;
      files.push({ name, rows: block.rows, bytes: packed.byteLength, level: 0, minKey: block.minKey, maxKey: block.maxKey, minArrived: 0, maxArrived: 0, minBseq: seq, maxBseq: seq, slots: block.slots, tombApplied: 0, format: 2 });
      head.add(name, block, seq);
    }
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const duck = async (): Promise<{ wallUs: number; cpuUs: number }> => {
      const cpu0 = cpuUs();
      const t0 = performance.now();
      await copyBlocks(c, files, files.map((f) => join(dir, f.name)), join(dir, 'c.parquet'), 'c.parquet', { tombstones: false, tombApplied: 0 });
      return { wallUs: (performance.now() - t0) * 1000, cpuUs: cpuUs() - cpu0 };
    };
    // The JS path as compactHeadBlocks runs it, step by step; the level not written is built only.
    const js = async (): Promise<Record<string, number>> => {
      const blocks = files.map((f) => head.block(f.name)!);
      const out: Record<string, number> = {};
      // The longest the JS thread was held at once (the merge is one synchronous step).
      const lag = monitorEventLoopDelay({ resolution: 5 });
      lag.enable();
      const t0 = performance.now();
      let t = cpuUs();
      const merged = mergeHeadBlocks(blocks);
      out.merge = cpuUs() - t;
      t = cpuUs();
      const bytes = await compactedParquetBytes(merged, COMPACTED_ROW_GROUP, COMPACTED_ZSTD_LEVEL);
      out.build = cpuUs() - t;
      t = cpuUs();
      await writeDurably(join(dir, 'j.parquet'), bytes);
      out.write = cpuUs() - t;
      t = cpuUs();
      await writeTraceSummaries(c, join(dir, 'j.parquet'), traceSummariesPath(join(dir, 'j.parquet')));
      out.summaries = cpuUs() - t;
      out.wall = (performance.now() - t0) * 1000;
      lag.disable();
      out.maxBlockMs = lag.max / 1e6;
      const other = (COMPACTED_ZSTD_LEVEL as number) === 1 ? 3 : 1;
      t = cpuUs();
      out.otherLevelBytes = (await compactedParquetBytes(merged, COMPACTED_ROW_GROUP, other)).byteLength;
      out.otherLevelBuild = cpuUs() - t;
      out.otherLevel = other;
      return out;
    };
    let d: { wallUs: number; cpuUs: number };
    let j: Record<string, number>;
    if (order === 'duckdb-first') {
      d = await duck();
      j = await js();
    } else {
      j = await js();
      d = await duck();
    }
    const out = files.length > 0 ? { name: 'c.parquet' } : undefined;
    const jsOut = join(dir, 'j.parquet');
    const jsCpu = j.merge! + j.build! + j.write! + j.summaries!;
    const microGroups = await bytesByGroup(c, files.map((f) => join(dir, f.name)), count);
    const compactedGroups = out === undefined ? {} : await bytesByGroup(c, [join(dir, out.name)], count);
    const jsGroups = await bytesByGroup(c, [jsOut], count);
    c.closeSync();
    db.closeSync();
    const compactedBytes = out === undefined ? 0 : (await stat(join(dir, out.name))).size;
    // Written by the compaction beside its output (search hits' summaries), in its CPU figure too.
    const summariesBytes = out === undefined ? 0 : (await stat(traceSummariesPath(join(dir, out.name)))).size;
    const per = (us: number): number => Number((us / count).toFixed(2));
    const result = {
      spans: count,
      block_spans: blockSize,
      encode_us_per_span: per(totals.encode),
      hyparquet_uncompressed_us_per_span: per(totals.build),
      hyparquet_zstd1_us_per_span: per(totals.zstd),
      write_fsync_wall_us_per_span: per(totals.fsync),
      order,
      compaction_wall_us_per_span: per(d.wallUs),
      compaction_cpu_us_per_span: per(d.cpuUs),
      js_compaction_wall_us_per_span: per(j.wall!),
      js_compaction_cpu_us_per_span: per(jsCpu),
      js_compaction_longest_js_block_ms: Number(j.maxBlockMs!.toFixed(1)),
      js_compaction_cpu_steps_us_per_span: { merge: per(j.merge!), build: per(j.build!), write: per(j.write!), summaries: per(j.summaries!) },
      micro_bytes_per_span_none: Number((totals.bytesNone / count).toFixed(1)),
      micro_bytes_per_span_zstd: Number((totals.bytesZstd / count).toFixed(1)),
      compacted_bytes_per_span: Number((compactedBytes / count).toFixed(1)),
      js_compacted_bytes_per_span: Number(((await stat(jsOut)).size / count).toFixed(1)),
      js_zstd_level: COMPACTED_ZSTD_LEVEL,
      js_other_level: { level: j.otherLevel!, bytes_per_span: Number((j.otherLevelBytes! / count).toFixed(1)), build_cpu_us_per_span: per(j.otherLevelBuild!) },
      trace_summaries_bytes_per_span: Number((summariesBytes / count).toFixed(1)),
      micro_zstd_bytes_per_span_by_group: microGroups,
      compacted_bytes_per_span_by_group: compactedGroups,
      js_compacted_bytes_per_span_by_group: jsGroups,
    };
    console.log(`block store write path, ${count} realistic spans in micro-blocks of ${blockSize}:`);
    for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(34)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    console.log(JSON.stringify(result));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
