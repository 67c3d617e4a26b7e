/**
 * Compaction in JS of micro-blocks whose columns are all in the head (head-block.ts), the usual
 * case: their rows merged in the order DuckDB's compaction gives them (block-copy.ts: trace id,
 * start, span id, micro-block number), parents re-positioned for that order, written by the same
 * column code (block-columns.ts) and Parquet writer as the micro-blocks, in row groups of the
 * compacted size, zstd. DuckDB re-read and re-sorted the micro-blocks' files and resolved and
 * recomputed positions with joins: 13–27 µs/span of CPU, the largest single cost of the server.
 * Measured, this path costs about as much (the Parquet build is most of it, ~0.1–0.7 µs/span per
 * column in hyparquet-writer), on the JS thread: so it is an option, off by default (block-store.ts).
 *
 * The DuckDB path stays for what this one does not do: inputs not in the head (left it, or written
 * before the process started), tombstones to apply, files of format 1, retention's rewrites.
 */
import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSource } from 'hyparquet-writer';
import { attributeColumn } from '../embedded/schema.js';
import { blockColumnSources, FIXED_COLUMNS } from './block-columns.js';
import { COMPACTED_ROW_GROUP, traceSummariesPath, writeTraceSummaries } from './block-copy.js';
import { hex16 } from './head-block.js';
import type { HeadBlock } from './head-block.js';
import { mergedRestKeys } from './manifest.js';
import type { BlockFile } from './manifest.js';
import { compactedParquetBytes, writeDurably } from './parquet-file.js';
import { distinctSorted } from './trace-index.js';

/**
 * zstd level of a file written in JS (a head, a JS compaction). With our Parquet writer
 * (parquet-pages.ts) level 1 is both cheaper and smaller than DuckDB's default 3 on realistic spans
 * (measure-blocks, 81 920 spans, load 2–3: build 1.28 against 1.83 µs/span, 19.8 against 20.1
 * B/span); with hyparquet-writer it had been the other way round.
 */
export const COMPACTED_ZSTD_LEVEL = 1;

/** Merged block columns, ready for the Parquet writer. */
export interface MergedBlocks {
  rows: number;
  slots: number;
  columnData: ColumnSource[];
  schema: Record<string, unknown>[];
  traceHis: BigUint64Array;
  minKey: string;
  maxKey: string;
  maxStart: number;
}

type Column = HeadBlock['col'][string];

/** A 64-bit typed array as its 32-bit words (little-endian: low word first). */
const words = (a: BigUint64Array | BigInt64Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length * 2);

/** Runs of at most this many rows find a parent by a scan, longer ones through a map. */
const SCAN_RUN = 64;

/**
 * The rows of `blocks` (head columns of format-2 micro-blocks, none hidden by a tombstone) as one
 * block: sorted by (tid_hi, tid_lo, start_us, sid, bseq) as DuckDB's compaction sorts them, a
 * parent in the same trace stored as its distance back to the parent's first row (`pdelta`, may be
 * negative when the parent starts later), the others keeping their id in `pid`.
 */
export function mergeHeadBlocks(blocks: readonly HeadBlock[]): MergedBlocks {
  const k = blocks.length;
  const off = new Int32Array(k + 1);
  for (let b = 0; b < k; b++) off[b + 1] = off[b]! + blocks[b]!.rows;
  const n = off[k]!;
  // Sort keys as plain numbers: comparing BigInts costs an allocation-free but slow path per call.
  const hiH = new Uint32Array(n);
  const hiL = new Uint32Array(n);
  const loH = new Uint32Array(n);
  const loL = new Uint32Array(n);
  const sidH = new Uint32Array(n);
  const sidL = new Uint32Array(n);
  const start = new Float64Array(n);
  const bseq = new Float64Array(n);
  const blockOf = new Int32Array(n);
  for (let b = 0; b < k; b++) {
    const block = blocks[b]!;
    const h = words(block.hi);
    const l = words(block.lo);
    const s = words(block.col.sid as BigUint64Array);
    const st = block.col.start_us as BigInt64Array;
    const stU = words(st);
    const stI = new Int32Array(st.buffer, st.byteOffset, st.length * 2);
    for (let r = 0, g = off[b]!; r < block.rows; r++, g++) {
      hiH[g] = h[2 * r + 1]!;
      hiL[g] = h[2 * r]!;
      loH[g] = l[2 * r + 1]!;
      loL[g] = l[2 * r]!;
      sidH[g] = s[2 * r + 1]!;
      sidL[g] = s[2 * r]!;
      start[g] = stI[2 * r + 1]! * 4294967296 + stU[2 * r]!;
      bseq[g] = block.bseq;
      blockOf[g] = b;
    }
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort(
    (a, b) =>
      hiH[a]! - hiH[b]! ||
      hiL[a]! - hiL[b]! ||
      loH[a]! - loH[b]! ||
      loL[a]! - loL[b]! ||
      start[a]! - start[b]! ||
      sidH[a]! - sidH[b]! ||
      sidL[a]! - sidL[b]! ||
      bseq[a]! - bseq[b]!,
  );
  // Output row i is row rowOf[i] of block srcOf[i].
  const srcOf = new Int32Array(n);
  const rowOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = order[i]!;
    const b = blockOf[g]!;
    srcOf[i] = b;
    rowOf[i] = g - off[b]!;
  }
  const slots = blocks.reduce((m, b) => Math.max(m, b.slots), 0);
  const data: Record<string, unknown> = {};
  for (const name of FIXED_COLUMNS) {
    if (name === 'pid' || name === 'pdelta') continue;
    data[name] = gather(blocks.map((b) => b.col[name]!), srcOf, rowOf);
  }
  const slotData: (string | null)[][] = [];
  for (let s = 0; s < slots; s++) {
    const column = attributeColumn(s);
    slotData.push(gather(blocks.map((b) => b.col[column]), srcOf, rowOf) as (string | null)[]);
  }
  const { pid, pdelta } = parents(blocks, srcOf, rowOf, [hiH, hiL, loH, loL], order, words(data.sid as BigUint64Array));
  data.pid = pid;
  data.pdelta = pdelta;
  const { schema, columnData } = blockColumnSources(data, slotData);
  const hi = data.tid_hi as BigUint64Array;
  const lo = data.tid_lo as BigUint64Array;
  let maxStart = 0;
  for (let g = 0; g < n; g++) if (start[g]! > maxStart) maxStart = start[g]!;
  return {
    rows: n,
    slots,
    columnData,
    schema,
    traceHis: distinctSorted(hi),
    minKey: n === 0 ? '' : hex16(hi[0]!) + hex16(lo[0]!),
    maxKey: n === 0 ? '' : hex16(hi[n - 1]!) + hex16(lo[n - 1]!),
    maxStart,
  };
}

/** Column `sources` (one per block, undefined: the block has no such column, NULL) in the output order. */
function gather(sources: readonly (Column | undefined)[], srcOf: Int32Array, rowOf: Int32Array): Column {
  const n = srcOf.length;
  const first = sources.find((s) => s !== undefined);
  if (first instanceof BigUint64Array || first instanceof BigInt64Array) {
    // 64-bit columns are required (never missing from a block): copied as words, no BigInt made.
    const out = first instanceof BigUint64Array ? new BigUint64Array(n) : new BigInt64Array(n);
    const to = words(out);
    const from = sources.map((s) => words(s as BigUint64Array | BigInt64Array));
    for (let i = 0; i < n; i++) {
      const w = from[srcOf[i]!]!;
      const r = rowOf[i]!;
      to[2 * i] = w[2 * r]!;
      to[2 * i + 1] = w[2 * r + 1]!;
    }
    return out;
  }
  if (first instanceof Int32Array) {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = (sources[srcOf[i]!] as Int32Array)[rowOf[i]!]!;
    return out;
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const s = sources[srcOf[i]!] as readonly unknown[] | undefined;
    out[i] = s === undefined ? null : (s[rowOf[i]!] ?? null);
  }
  return out;
}

/**
 * `pid` and `pdelta` of the output rows: each row's parent id (from its block's position or id),
 * then, per trace, the first output row with that span id, as the DuckDB compaction computes them.
 */
function parents(
  blocks: readonly HeadBlock[],
  srcOf: Int32Array,
  rowOf: Int32Array,
  [hiH, hiL, loH, loL]: readonly Uint32Array[],
  order: Uint32Array,
  sid: Uint32Array,
): { pid: (bigint | null)[]; pdelta: (number | null)[] } {
  const n = srcOf.length;
  const pid = new Array<bigint | null>(n).fill(null);
  const pdelta = new Array<number | null>(n).fill(null);
  const pH = new Uint32Array(n);
  const pL = new Uint32Array(n);
  const has = new Uint8Array(n);
  const sidWords = blocks.map((b) => words(b.col.sid as BigUint64Array));
  for (let i = 0; i < n; i++) {
    const b = srcOf[i]!;
    const r = rowOf[i]!;
    const d = (blocks[b]!.col.pdelta as readonly (number | null)[])[r];
    if (d !== null && d !== undefined) {
      const w = sidWords[b]!;
      pH[i] = w[2 * (r - d) + 1]!;
      pL[i] = w[2 * (r - d)]!;
      has[i] = 1;
      continue;
    }
    const p = (blocks[b]!.col.pid as readonly (bigint | null)[])[r];
    if (p !== null && p !== undefined) {
      pH[i] = Number(p >> 32n);
      pL[i] = Number(p & 0xffffffffn);
      has[i] = 1;
    }
  }
  const same = (a: number, b: number): boolean => hiH[a] === hiH[b] && hiL[a] === hiL[b] && loH[a] === loH[b] && loL[a] === loL[b];
  const firstOf = new Map<string, number>();
  for (let a = 0; a < n; ) {
    let z = a + 1;
    while (z < n && same(order[a]!, order[z]!)) z++;
    const scan = z - a <= SCAN_RUN;
    if (!scan) {
      firstOf.clear();
      for (let j = a; j < z; j++) {
        const key = `${sid[2 * j + 1]!}:${sid[2 * j]!}`;
        if (!firstOf.has(key)) firstOf.set(key, j);
      }
    }
    for (let i = a; i < z; i++) {
      if (has[i] === 0) continue;
      let at = -1;
      if (scan) {
        for (let j = a; j < z; j++) {
          if (sid[2 * j] === pL[i] && sid[2 * j + 1] === pH[i]) {
            at = j;
            break;
          }
        }
      } else at = firstOf.get(`${pH[i]!}:${pL[i]!}`) ?? -1;
      if (at >= 0) pdelta[i] = i - at;
      else pid[i] = (BigInt(pH[i]!) << 32n) | BigInt(pL[i]!);
    }
    a = z;
  }
  return { pid, pdelta };
}

/**
 * Writes the merge of micro-blocks `inputs` (their head columns `blocks`, same order) to `output`
 * (fsynced, renamed into place) with its trace summaries beside it, as `copyBlocks` does, and
 * returns its manifest entry (named `name`) and trace index entry; undefined when no row.
 */
export async function compactHeadBlocks(
  c: DuckDBConnection,
  inputs: readonly BlockFile[],
  blocks: readonly HeadBlock[],
  output: string,
  name: string,
  tombApplied: number,
): Promise<{ file: BlockFile; traceHis: BigUint64Array } | undefined> {
  const merged = mergeHeadBlocks(blocks);
  if (merged.rows === 0) return undefined;
  const bytes = await compactedParquetBytes(merged, COMPACTED_ROW_GROUP, COMPACTED_ZSTD_LEVEL);
  await writeDurably(output, bytes);
  const summaries = traceSummariesPath(output);
  await writeTraceSummaries(c, output, summaries);
  const file: BlockFile = {
    name,
    rows: merged.rows,
    bytes: bytes.byteLength + (await stat(summaries)).size,
    level: 1,
    minKey: merged.minKey,
    maxKey: merged.maxKey,
    minArrived: Math.min(...inputs.map((f) => f.minArrived)),
    maxArrived: Math.max(...inputs.map((f) => f.maxArrived)),
    minBseq: Math.min(...inputs.map((f) => f.minBseq)),
    maxBseq: Math.max(...inputs.map((f) => f.maxBseq)),
    maxStart: merged.maxStart,
    slots: inputs.reduce((m, f) => Math.max(m, f.slots), 0),
    tombApplied,
    format: 2,
    traces: true,
  };
  const restKeys = mergedRestKeys(inputs);
  if (restKeys !== undefined) file.restKeys = restKeys;
  return { file, traceHis: merged.traceHis };
}
