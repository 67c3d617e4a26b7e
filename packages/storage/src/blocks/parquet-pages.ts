/**
 * Our Parquet writer: the block columns (block-columns.ts) → column chunks, row groups and footer,
 * for the few shapes our schema has, each written in one pass from the arrays it is held in:
 *
 * - 64-bit ids and times in a BigUint64Array / BigInt64Array: PLAIN, the page body is the array's
 *   bytes (no value read as a BigInt); min/max statistics (where readers prune) from its 32-bit words.
 * - small codes (Int32Array), constant bookkeeping and repeating texts: RLE_DICTIONARY, the
 *   dictionary built from a Map in the same pass that writes its PLAIN page; a text column without
 *   a set encoding keeps the dictionary only if it at least halves the PLAIN bytes (hyparquet-writer's
 *   rule, which today's files were written by), and any dictionary past 65 536 values falls back to PLAIN.
 * - nullable columns: definition levels in the RLE/bit-packed hybrid; the `rest` list also
 *   repetition levels; booleans RLE.
 *
 * Pages are DATA_PAGE_V2, one per column chunk, zstd'd (levels stay uncompressed, as v2 has them);
 * a page zstd does not shrink (random span ids) is stored as is (`is_compressed` false), saving the
 * reader its decompression. hyparquet-writer wrote the same file layout through a generic per-value
 * path (type checks, statistics over every column, sampling, slices), 4–7 µs/span (issue 12).
 */
import type { ColumnSource } from 'hyparquet-writer';
import { ByteSink, T, Thrift } from './byte-sink.js';

/** Compresses a page (zstd at the file's level); undefined for an uncompressed file. */
export type PageCompressor = ((page: Uint8Array) => Uint8Array) | undefined;

const TYPE = { BOOLEAN: 0, INT32: 1, INT64: 2, BYTE_ARRAY: 6 } as const;
type Physical = keyof typeof TYPE;
const ENC = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const REPETITION = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
const CONVERTED: Record<string, number> = { UTF8: 0, LIST: 3, UINT_8: 11, UINT_64: 14 };
const PAGE = { DICTIONARY: 2, DATA_V2: 3 } as const;
const CODEC = { UNCOMPRESSED: 0, ZSTD: 6 } as const;

/** Past this many distinct values a dictionary falls back to PLAIN. */
export const MAX_DICTIONARY = 1 << 16;

/** A schema element as block-columns.ts gives it (hyparquet's SchemaElement shape). */
interface Element {
  name: string;
  type?: Physical;
  converted_type?: string;
  repetition_type?: keyof typeof REPETITION;
  num_children?: number;
}

/** A leaf column of the file, with where its values come from. */
export interface Leaf {
  path: string[];
  type: Physical;
  unsigned: boolean;
  /** 0: required; 1: optional scalar; 2: optional list of required elements (`rest`). */
  maxDef: number;
  list: boolean;
  stats: boolean;
  encoding: 'RLE_DICTIONARY' | 'PLAIN' | undefined;
  data: ColumnSource['data'];
}

/** The leaves of `schema` (root first, as block-columns.ts builds it), joined to their data. */
export function leavesOf(schema: readonly Record<string, unknown>[], columns: readonly ColumnSource[]): Leaf[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const els = schema as unknown as Element[];
  const leaves: Leaf[] = [];
  for (let i = 1; i < els.length; i++) {
    const top = els[i]!;
    const source = byName.get(top.name);
    if (source === undefined) throw new Error(`parquet writer: no data for column ${top.name}`);
    const optional = top.repetition_type === 'OPTIONAL';
    const base = { stats: source.statistics === true, encoding: source.encoding as Leaf['encoding'], data: source.data };
    if ((top.num_children ?? 0) > 0) {
      // LIST: <name> (optional) → list (repeated) → element (required): the only group we write.
      const repeated = els[i + 1]!;
      const element = els[i + 2]!;
      if (top.converted_type !== 'LIST' || repeated.repetition_type !== 'REPEATED' || element.repetition_type !== 'REQUIRED' || element.type === undefined) throw new Error(`parquet writer: unsupported group ${top.name}`);
      leaves.push({ ...base, path: [top.name, repeated.name, element.name], type: element.type, unsigned: false, maxDef: optional ? 2 : 1, list: true });
      i += 2;
    } else {
      if (top.type === undefined) throw new Error(`parquet writer: column ${top.name} has no type`);
      leaves.push({ ...base, path: [top.name], type: top.type, unsigned: top.converted_type === 'UINT_64', maxDef: optional ? 1 : 0, list: false });
    }
  }
  return leaves;
}

/** What the footer records of a written column chunk. */
export interface ChunkMeta {
  leaf: Leaf;
  offset: number;
  dictionaryOffset: number | undefined;
  dataOffset: number;
  numValues: number;
  compressed: number;
  uncompressed: number;
  encoding: number;
  stats: { min: Uint8Array; max: Uint8Array } | undefined;
}

/** Scratch buffers reused across chunks and files (one JS thread writes at a time). */
const values = new ByteSink();
const dict = new ByteSink();
const levels = new ByteSink();
let defs = new Uint8Array(1024);
let reps = new Uint8Array(1024);
let indexes = new Int32Array(1024);
let stage = new BigInt64Array(1024);
/** Dictionary index of each small INT32 value (codes), -1 when not seen: no Map for those. */
const smallIndex = new Int32Array(256);

function ensureLevels(n: number): void {
  if (defs.length < n) {
    defs = new Uint8Array(n * 2);
    reps = new Uint8Array(n * 2);
  }
  if (indexes.length < n) indexes = new Int32Array(n * 2);
}

/** Bits for values 0…max (0 for a single value). */
const bitWidth = (max: number): number => (max <= 0 ? 0 : 32 - Math.clz32(max));

/**
 * The RLE/bit-packed hybrid of the first `n` of `v` at `width` bits: runs of 8+ equal values as RLE
 * runs, the rest in bit-packed groups of 8 (the last padded with zeros; readers stop at the count).
 */
export function writeHybrid(out: ByteSink, v: ArrayLike<number>, n: number, width: number): void {
  const valueBytes = (width + 7) >> 3;
  let i = 0;
  while (i < n) {
    const x = v[i]!;
    let r = i + 1;
    while (r < n && v[r] === x) r++;
    if (r - i >= 8) {
      out.varint((r - i) * 2);
      out.ensure(valueBytes);
      for (let b = 0; b < valueBytes; b++) out.buf[out.at++] = (x >>> (8 * b)) & 0xff;
      i = r;
      continue;
    }
    // Bit-packed groups until a run of 8 starts at a group boundary.
    let end = i;
    for (;;) {
      end = Math.min(end + 8, n);
      if (end >= n) break;
      const y = v[end]!;
      let s = end + 1;
      while (s < n && s - end < 8 && v[s] === y) s++;
      if (s - end >= 8) break;
    }
    const groups = Math.ceil((end - i) / 8);
    out.varint(groups * 2 + 1);
    out.ensure(groups * width + 1);
    const buf = out.buf;
    let at = out.at;
    let acc = 0;
    let bits = 0;
    const stop = i + groups * 8;
    for (let k = i; k < stop; k++) {
      const val = k < n ? v[k]! : 0;
      acc |= val << bits;
      bits += width;
      while (bits >= 8) {
        buf[at++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
      // Widths past 24 bits would overflow the accumulator; ours are at most 17 (dictionaries of 65 536).
    }
    if (bits > 0) buf[at++] = acc & 0xff;
    out.at = at;
    i = end;
  }
}

/** Stats bytes of element `i` of a 64-bit array (little-endian, as Parquet stores INT64). */
function statBytes(a: BigUint64Array | BigInt64Array, i: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset + i * 8, 8).slice();
}

/** Min and max of a 64-bit array, compared on its 32-bit words (no BigInt per value). */
function minMax64(a: BigUint64Array | BigInt64Array, unsigned: boolean): { min: Uint8Array; max: Uint8Array } | undefined {
  const n = a.length;
  if (n === 0) return undefined;
  const w = new Uint32Array(a.buffer, a.byteOffset, n * 2);
  const hi = (i: number): number => (unsigned ? w[2 * i + 1]! : w[2 * i + 1]! | 0);
  let lo = 0;
  let hiAt = 0;
  for (let i = 1; i < n; i++) {
    const h = hi(i);
    const l = w[2 * i]!;
    const hl = hi(lo);
    if (h < hl || (h === hl && l < w[2 * lo]!)) lo = i;
    const hh = hi(hiAt);
    if (h > hh || (h === hh && l > w[2 * hiAt]!)) hiAt = i;
  }
  return { min: statBytes(a, lo), max: statBytes(a, hiAt) };
}

/** Level entries of a chunk (rows, or list entries) and how many of them hold no value. */
interface Levels {
  count: number;
  nulls: number;
}

/** Writes one BYTE_ARRAY value, PLAIN (4-byte length, then UTF-8). */
function plainString(out: ByteSink, s: string): void {
  out.ensure(4);
  const at = out.at;
  out.at += 4;
  const len = out.utf8(s);
  out.buf.writeUInt32LE(len, at);
}

/** Writes one INT64 value, PLAIN. */
function plainInt64(out: ByteSink, v: bigint | number, unsigned: boolean): void {
  out.ensure(8);
  const b = typeof v === 'bigint' ? v : BigInt(v);
  if (unsigned) out.buf.writeBigUInt64LE(b, out.at);
  else out.buf.writeBigInt64LE(b, out.at);
  out.at += 8;
}

function plainInt32(out: ByteSink, v: number): void {
  out.ensure(4);
  out.buf.writeInt32LE(v, out.at);
  out.at += 4;
}

/**
 * The non-null values of the chunk being written: the first `valCount` of `vals`. Reused with its
 * backing store (`length = 0` would free it and every chunk grow it again); cleared after use so
 * it keeps no block's texts alive.
 */
const vals: unknown[] = [];
let valCount = 0;

/**
 * Fills `defs` (and `reps` for a list) for rows `from…to` and `vals` with their non-null values in
 * order (one loop per shape, each monomorphic; the encoders then loop over `vals`).
 */
function gather(leaf: Leaf, from: number, to: number): Levels {
  const data = leaf.data as ArrayLike<unknown>;
  const n = to - from;
  valCount = 0;
  if (leaf.list) {
    // Levels per entry: a NULL list (def 0), an empty one (def 1), or its elements (def 2; rep 1
    // after the first). Grown as entries are counted.
    let count = 0;
    let nulls = 0;
    for (let r = from; r < to; r++) {
      const list = data[r] as readonly string[] | null | undefined;
      const need = count + Math.max(1, list?.length ?? 0);
      if (need > defs.length) {
        const d = new Uint8Array(need * 2);
        d.set(defs.subarray(0, count));
        defs = d;
        const p = new Uint8Array(need * 2);
        p.set(reps.subarray(0, count));
        reps = p;
      }
      if (list === null || list === undefined || list.length === 0) {
        defs[count] = list === null || list === undefined ? leaf.maxDef - 2 : leaf.maxDef - 1;
        reps[count++] = 0;
        nulls++;
        continue;
      }
      for (let k = 0; k < list.length; k++) {
        defs[count] = leaf.maxDef;
        reps[count++] = k === 0 ? 0 : 1;
        vals[valCount++] = list[k];
      }
    }
    return { count, nulls };
  }
  if (leaf.maxDef === 0) {
    for (let r = from; r < to; r++) {
      const v = data[r];
      if (v === null || v === undefined) throw new Error(`parquet writer: NULL in required column ${leaf.path[0]}`);
      vals[valCount++] = v;
    }
    return { count: n, nulls: 0 };
  }
  let nulls = 0;
  for (let r = from, i = 0; r < to; r++, i++) {
    const v = data[r];
    if (v === null || v === undefined) {
      defs[i] = 0;
      nulls++;
    } else {
      defs[i] = 1;
      vals[valCount++] = v;
    }
  }
  return { count: n, nulls };
}

/** Writes `vals` PLAIN. */
function writePlain(out: ByteSink, leaf: Leaf): void {
  const n = valCount;
  if (leaf.type === 'BYTE_ARRAY') for (let i = 0; i < n; i++) plainString(out, vals[i] as string);
  else if (leaf.type === 'INT64') {
    // Staged in a 64-bit array (a native store per value; Buffer's writeBigInt64LE splits each
    // BigInt in JS). Signed or unsigned, the stored bytes are the same.
    if (stage.length < n) stage = new BigInt64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const v = vals[i] as bigint | number;
      stage[i] = typeof v === 'bigint' ? v : BigInt(v);
    }
    out.append(new Uint8Array(stage.buffer, 0, n * 8));
  }
  else if (leaf.type === 'INT32') for (let i = 0; i < n; i++) plainInt32(out, vals[i] as number);
  else throw new Error('parquet writer: PLAIN booleans are written as RLE');
}

/**
 * `vals` as a dictionary: the distinct values' PLAIN bytes in `dict`, their indexes in `indexes`;
 * returns the dictionary's size, or undefined when it should not be used (too many values; or,
 * not forced, not worth it), the values then written PLAIN.
 */
function tryDictionary(leaf: Leaf, forced: boolean): number | undefined {
  dict.at = 0;
  const n = valCount;
  if (leaf.type === 'INT32') return smallIntDictionary(leaf, forced);
  if (indexes.length < n) indexes = new Int32Array(n * 2);
  const seen = new Map<unknown, number>();
  const text = leaf.type === 'BYTE_ARRAY';
  // PLAIN bytes of the values (texts: their UTF-16 length, near enough to weigh the dictionary).
  let plainBytes = text ? 0 : n * (leaf.type === 'INT64' ? 8 : 4);
  let prev: unknown = undefined;
  let prevIndex = -1;
  for (let k = 0; k < n; k++) {
    const v = vals[k];
    if (text) plainBytes += 4 + (v as string).length;
    // Runs of one value (constant bookkeeping columns, sorted repeats) skip the Map.
    if (v === prev) {
      indexes[k] = prevIndex;
      continue;
    }
    let index = seen.get(v);
    if (index === undefined) {
      index = seen.size;
      if (index >= MAX_DICTIONARY || (!forced && k >= 1024 && index > k * 0.9)) return undefined;
      seen.set(v, index);
      if (text) plainString(dict, v as string);
      else if (leaf.type === 'INT64') plainInt64(dict, v as bigint, leaf.unsigned);
      else plainInt32(dict, v as number);
    }
    indexes[k] = index;
    prev = v;
    prevIndex = index;
  }
  const size = seen.size;
  if (!forced && 2 * (dict.at + Math.ceil((n * bitWidth(size - 1)) / 8)) > plainBytes) return undefined;
  return size;
}

/** `tryDictionary` of INT32 values: values 0…255 (kind and status codes) indexed by a table. */
function smallIntDictionary(leaf: Leaf, forced: boolean): number | undefined {
  const n = valCount;
  if (indexes.length < n) indexes = new Int32Array(n * 2);
  smallIndex.fill(-1);
  let seen: Map<number, number> | undefined;
  let size = 0;
  for (let k = 0; k < n; k++) {
    const v = vals[k] as number;
    let index: number | undefined;
    if (v >= 0 && v < 256) {
      index = smallIndex[v]!;
      if (index < 0) {
        index = size++;
        smallIndex[v] = index;
        plainInt32(dict, v);
      }
    } else {
      seen ??= new Map();
      index = seen.get(v);
      if (index === undefined) {
        index = size++;
        seen.set(v, index);
        plainInt32(dict, v);
      }
    }
    if (size > MAX_DICTIONARY) return undefined;
    indexes[k] = index;
  }
  if (!forced && 2 * (dict.at + Math.ceil((n * bitWidth(size - 1)) / 8)) > n * 4) return undefined;
  return size;
}

/** A 64-bit array whose values are all the first one (the bookkeeping columns), compared by words. */
function constant64(a: BigUint64Array | BigInt64Array): boolean {
  const w = new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
  const lo = w[0];
  const hi = w[1];
  for (let i = 2; i < w.length; i += 2) if (w[i] !== lo || w[i + 1] !== hi) return false;
  return true;
}

/** Writes a page header (dictionary or data v2). */
function pageHeader(out: ByteSink, type: number, uncompressed: number, compressed: number, body: (t: Thrift) => void): void {
  const t = new Thrift(out);
  t.begin();
  t.i32(1, type);
  t.i32(2, uncompressed);
  t.i32(3, compressed);
  body(t);
  t.end();
}

/** Writes a dictionary page of `count` values (`raw`, PLAIN); returns its uncompressed size with its header. */
function dictionaryPage(out: ByteSink, raw: Uint8Array, count: number, compress: PageCompressor): number {
  const start = out.at;
  const packed = compress === undefined ? raw : compress(raw);
  pageHeader(out, PAGE.DICTIONARY, raw.length, packed.length, (t) => {
    t.begin(7);
    t.i32(1, count);
    t.i32(2, ENC.PLAIN);
    t.end();
  });
  const header = out.at - start;
  out.append(packed);
  return header + raw.length;
}

/**
 * Writes the column chunk of rows `from…to` of `leaf` to `out`: an optional dictionary page, then
 * one data page.
 */
export function writeChunk(out: ByteSink, leaf: Leaf, from: number, to: number, compress: PageCompressor): ChunkMeta {
  const rows = to - from;
  ensureLevels(rows);
  const offset = out.at;
  let uncompressedTotal = 0;
  let dictionaryOffset: number | undefined;
  const data = leaf.data;
  const typed64 = data instanceof BigUint64Array || data instanceof BigInt64Array ? data.subarray(from, to) : undefined;
  let stats: ChunkMeta['stats'];
  if (leaf.stats) {
    if (typed64 === undefined) throw new Error(`parquet writer: statistics only for 64-bit typed columns (${leaf.path[0]})`);
    stats = minMax64(typed64, leaf.unsigned);
  }

  values.at = 0;
  let encoding: number = ENC.PLAIN;
  let lv: Levels;
  const tryDict = leaf.type !== 'BOOLEAN' && (leaf.encoding === 'RLE_DICTIONARY' || (leaf.encoding === undefined && leaf.type === 'BYTE_ARRAY'));
  if (typed64 !== undefined && leaf.maxDef === 0 && !tryDict) {
    // The array's bytes are the PLAIN page.
    lv = { count: rows, nulls: 0 };
    values.append(new Uint8Array(typed64.buffer, typed64.byteOffset, typed64.byteLength));
  } else if (typed64 !== undefined && leaf.maxDef === 0 && rows > 0 && constant64(typed64)) {
    // One value (arrived_us, bseq of a micro-block): a dictionary of it and one RLE run of index 0.
    encoding = ENC.RLE_DICTIONARY;
    lv = { count: rows, nulls: 0 };
    values.u8(0);
    values.varint(rows * 2);
    dictionaryOffset = out.at;
    uncompressedTotal += dictionaryPage(out, new Uint8Array(typed64.buffer, typed64.byteOffset, 8), 1, compress);
  } else if (data instanceof Int32Array && leaf.maxDef === 0 && !tryDict) {
    lv = { count: rows, nulls: 0 };
    values.append(new Uint8Array(data.buffer, data.byteOffset + from * 4, rows * 4));
  } else {
    lv = gather(leaf, from, to);
    const size = tryDict ? tryDictionary(leaf, leaf.encoding === 'RLE_DICTIONARY') : undefined;
    if (size !== undefined) {
      encoding = ENC.RLE_DICTIONARY;
      const width = bitWidth(size - 1);
      values.u8(width);
      writeHybrid(values, indexes, valCount, width);
      // The dictionary page: the distinct values, PLAIN.
      dictionaryOffset = out.at;
      uncompressedTotal += dictionaryPage(out, dict.bytes(), size, compress);
    } else if (leaf.type === 'BOOLEAN') {
      encoding = ENC.RLE;
      const n = valCount;
      if (indexes.length < n) indexes = new Int32Array(n * 2);
      for (let k = 0; k < n; k++) indexes[k] = vals[k] === true ? 1 : 0;
      values.u32(0);
      writeHybrid(values, indexes, n, 1);
      values.buf.writeUInt32LE(values.at - 4, 0);
    } else writePlain(values, leaf);
    vals.fill(undefined, 0, valCount);
    valCount = 0;
  }

  // Levels (v2: uncompressed, before the values): repetition then definition.
  levels.at = 0;
  let repLength = 0;
  if (leaf.list) {
    writeHybrid(levels, reps, lv.count, 1);
    repLength = levels.at;
  }
  if (leaf.maxDef > 0) writeHybrid(levels, defs, lv.count, bitWidth(leaf.maxDef));
  const defLength = levels.at - repLength;

  const raw = values.bytes();
  let body = raw;
  let compressed = false;
  if (compress !== undefined) {
    const packed = compress(raw);
    if (packed.length < raw.length) {
      body = packed;
      compressed = true;
    }
  }
  const dataOffset = out.at;
  pageHeader(out, PAGE.DATA_V2, levels.at + raw.length, levels.at + body.length, (t) => {
    t.begin(8);
    t.i32(1, lv.count);
    t.i32(2, lv.nulls);
    t.i32(3, rows);
    t.i32(4, encoding);
    t.i32(5, defLength);
    t.i32(6, repLength);
    if (!compressed) t.bool(7, false);
    t.end();
  });
  uncompressedTotal += out.at - dataOffset + levels.at + raw.length;
  out.append(levels.bytes());
  out.append(body);
  return { leaf, offset, dictionaryOffset, dataOffset, numValues: lv.count, compressed: out.at - offset, uncompressed: uncompressedTotal, encoding, stats };
}

/** A row group as the footer records it. */
export interface RowGroupMeta {
  rows: number;
  offset: number;
  chunks: ChunkMeta[];
}

/** The footer (FileMetaData) of a file of `rowGroups` under `schema`, with its length and `PAR1`. */
export function writeFooter(out: ByteSink, schema: readonly Record<string, unknown>[], rowGroups: readonly RowGroupMeta[], codec: 'zstd' | 'none', createdBy: string): void {
  const start = out.at;
  const t = new Thrift(out);
  const els = schema as unknown as Element[];
  t.begin();
  t.i32(1, 2);
  t.list(2, T.STRUCT, els.length);
  for (const e of els) {
    t.begin();
    if (e.type !== undefined) t.i32(1, TYPE[e.type]);
    if (e.repetition_type !== undefined) t.i32(3, REPETITION[e.repetition_type]);
    t.binary(4, e.name);
    if (e.num_children !== undefined) t.i32(5, e.num_children);
    if (e.converted_type !== undefined) {
      const c = CONVERTED[e.converted_type];
      if (c === undefined) throw new Error(`parquet writer: converted type ${e.converted_type}`);
      t.i32(6, c);
    }
    t.end();
  }
  let rows = 0;
  for (const g of rowGroups) rows += g.rows;
  t.i64(3, rows);
  t.list(4, T.STRUCT, rowGroups.length);
  for (const g of rowGroups) {
    t.begin();
    t.list(1, T.STRUCT, g.chunks.length);
    let uncompressed = 0;
    let compressed = 0;
    for (const c of g.chunks) {
      uncompressed += c.uncompressed;
      compressed += c.compressed;
      t.begin();
      t.i64(2, c.offset);
      t.begin(3);
      t.i32(1, TYPE[c.leaf.type]);
      const encodings = c.dictionaryOffset === undefined ? [c.encoding] : [ENC.PLAIN, c.encoding];
      if (c.leaf.maxDef > 0 && c.encoding !== ENC.RLE) encodings.push(ENC.RLE);
      t.list(2, T.I32, encodings.length);
      for (const e of encodings) t.elemI32(e);
      t.list(3, T.BINARY, c.leaf.path.length);
      for (const p of c.leaf.path) t.elemBinary(p);
      t.i32(4, codec === 'zstd' ? CODEC.ZSTD : CODEC.UNCOMPRESSED);
      t.i64(5, c.numValues);
      t.i64(6, c.uncompressed);
      t.i64(7, c.compressed);
      t.i64(9, c.dataOffset);
      if (c.dictionaryOffset !== undefined) t.i64(11, c.dictionaryOffset);
      if (c.stats !== undefined) {
        // Both the legacy and the typed min/max (as hyparquet-writer wrote them), no NULLs.
        t.begin(12);
        t.binary(1, c.stats.max);
        t.binary(2, c.stats.min);
        t.i64(3, 0);
        t.binary(5, c.stats.max);
        t.binary(6, c.stats.min);
        t.bool(7, true);
        t.bool(8, true);
        t.end();
      }
      t.end();
      t.end();
    }
    t.i64(2, uncompressed);
    t.i64(3, g.rows);
    t.i64(5, g.offset);
    t.i64(6, compressed);
    t.end();
  }
  t.binary(6, createdBy);
  // Column orders: type-defined (min/max compare as the logical type: unsigned for UINT_64).
  let leafCount = 0;
  for (const e of els) if (e.type !== undefined) leafCount++;
  t.list(7, T.STRUCT, leafCount);
  for (let i = 0; i < leafCount; i++) {
    t.begin();
    t.begin(1);
    t.end();
    t.end();
  }
  t.end();
  out.u32(out.at - start);
  out.u32(0x31524150);
}
