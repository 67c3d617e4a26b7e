/**
 * Our Parquet writer (parquet-pages.ts) read back by the two readers of the block store's files:
 * DuckDB's read_parquet (queries, compaction) and hyparquet. Every column shape the block columns
 * have, each encoding, NULLs and the edge cases (empty and non-ASCII text, all-NULL columns, one
 * row, unsigned ids past 2^63, a dictionary too large that falls back to PLAIN, row groups).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { decompress } from '@bokuweb/zstd-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import type { ColumnSource } from 'hyparquet-writer';
import { ByteSink } from '../src/blocks/byte-sink.js';
import { compactedParquetBytes, initZstd, parquetBytes, PARQUET_CREATED_BY } from '../src/blocks/parquet-file.js';
import { MAX_DICTIONARY, writeHybrid } from '../src/blocks/parquet-pages.js';
import { freshDirs } from './support/store-files.js';

const freshDir = freshDirs('lt-parquet-pages-');

type Kind = 'u64' | 'i64' | 'u8' | 'i32' | 'str' | 'bool' | 'list';
interface Col {
  name: string;
  kind: Kind;
  required: boolean;
  data: ColumnSource['data'];
  stats?: true;
  encoding?: 'RLE_DICTIONARY' | 'PLAIN';
}

const ELEMENT: Record<Exclude<Kind, 'list'>, Record<string, string>> = {
  u64: { type: 'INT64', converted_type: 'UINT_64' },
  i64: { type: 'INT64' },
  u8: { type: 'INT32', converted_type: 'UINT_8' },
  i32: { type: 'INT32' },
  str: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  bool: { type: 'BOOLEAN' },
};

/** Schema and sources as block-columns.ts builds them. */
function fileColumns(cols: readonly Col[]): { rows: number; schema: Record<string, unknown>[]; columnData: ColumnSource[] } {
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: cols.length }];
  const columnData: ColumnSource[] = [];
  for (const c of cols) {
    const repetition_type = c.required ? 'REQUIRED' : 'OPTIONAL';
    if (c.kind === 'list') {
      schema.push(
        { name: c.name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', ...ELEMENT.str, repetition_type: 'REQUIRED' },
      );
    } else schema.push({ name: c.name, ...ELEMENT[c.kind], repetition_type });
    const source: ColumnSource = { name: c.name, data: c.data, nullable: !c.required, statistics: c.stats === true };
    if (c.encoding !== undefined) source.encoding = c.encoding;
    columnData.push(source);
  }
  return { rows: cols[0]!.data.length, schema, columnData };
}

/** The value written in row `i` of `c` (what a reader should give back, once `normal`ised). */
function expected(c: Col, i: number): unknown {
  return (c.data as ArrayLike<unknown>)[i] ?? null;
}

/** Normalises what a reader returned to the same forms. */
function normal(c: Col, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (c.kind === 'u64' || c.kind === 'i64') return typeof v === 'bigint' ? v : BigInt(v as number);
  if (c.kind === 'u8' || c.kind === 'i32') return Number(v);
  if (c.kind === 'list') {
    // DuckDB gives a list as { items: [...] } through getRowsJS in some versions, hyparquet an array.
    const items = Array.isArray(v) ? v : (v as { items: unknown[] }).items;
    return items.map(String);
  }
  return v;
}

async function duck<T>(run: (q: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    try {
      return await run(async (sql) => (await c.runAndReadAll(sql)).getRowsJS() as unknown[][]);
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

/** Writes `bytes` (the file of `cols`), reads it back through DuckDB and hyparquet, asserts every value. */
async function roundTrip(cols: readonly Col[], bytes: Uint8Array): Promise<{ file: string; query: (sql: string) => Promise<unknown[][]> }> {
  const file = `${freshDir()}.parquet`;
  await writeFile(file, bytes);
  const rows = cols[0]!.data.length;
  // DuckDB.
  await duck(async (q) => {
    const got = await q(`SELECT ${cols.map((c) => `"${c.name}"`).join(', ')} FROM read_parquet('${file}')`);
    assert.equal(got.length, rows);
    for (let i = 0; i < rows; i++) for (let k = 0; k < cols.length; k++) assert.deepStrictEqual(normal(cols[k]!, got[i]![k]), expected(cols[k]!, i), `duckdb row ${i} column ${cols[k]!.name}`);
  });
  // hyparquet.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const objects = (await parquetReadObjects({ file: buffer, compressors: { ZSTD: (input: Uint8Array) => decompress(input) } })) as Record<string, unknown>[];
  assert.equal(objects.length, rows);
  for (let i = 0; i < rows; i++) for (const c of cols) assert.deepStrictEqual(normal(c, objects[i]![c.name]), expected(c, i), `hyparquet row ${i} column ${c.name}`);
  return { file, query: async (sql) => duck((q) => q(sql)) };
}

/** Every shape and encoding the block columns use, over `n` rows (NULLs, repeats, edge texts). */
function allShapes(n: number): Col[] {
  const u64 = new BigUint64Array(n);
  const i64 = new BigInt64Array(n);
  const random = new BigUint64Array(n);
  const constant = new BigInt64Array(n).fill(1_700_000_000_000_000n);
  const codes = new Int32Array(n);
  const texts = ['', 'é', '日本語', 'emoji 🚀', 'a\u001fb', 'plain'];
  for (let i = 0; i < n; i++) {
    // Sorted unsigned ids across 2^63 (signed order would misplace them).
    u64[i] = 0x7fff_ffff_ffff_fff0n + BigInt(i * 3);
    i64[i] = BigInt((i % 2 === 0 ? -1 : 1) * i * 1_000_003);
    random[i] = BigInt.asUintN(64, BigInt(i + 1) * 0x9e37_79b9_7f4a_7c15n);
    codes[i] = i % 5;
  }
  const at = <T>(f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
  return [
    { name: 'tid_hi', kind: 'u64', required: true, data: u64, stats: true },
    { name: 'start_us', kind: 'i64', required: true, data: i64, stats: true, encoding: 'PLAIN' },
    { name: 'sid', kind: 'u64', required: true, data: random, encoding: 'PLAIN' },
    { name: 'arrived_us', kind: 'i64', required: true, data: constant, stats: true, encoding: 'RLE_DICTIONARY' },
    { name: 'kind', kind: 'u8', required: true, data: codes, encoding: 'RLE_DICTIONARY' },
    { name: 't64', kind: 'bool', required: false, data: at((i) => (i % 3 === 0 ? true : null)) },
    { name: 'pid', kind: 'u64', required: false, data: at((i) => (i % 4 === 0 ? null : 0xffff_ffff_ffff_fff0n - BigInt(i))), encoding: 'PLAIN' },
    { name: 'duration_us', kind: 'i64', required: false, data: at((i) => (i % 5 === 1 ? null : BigInt(i * 7 - 3))), encoding: 'PLAIN' },
    { name: 'pdelta', kind: 'i32', required: false, data: at((i) => (i % 2 === 0 ? null : (i % 9) - 4)), encoding: 'RLE_DICTIONARY' },
    { name: 'service', kind: 'str', required: true, data: at((i) => texts[i % texts.length]!), encoding: 'RLE_DICTIONARY' },
    { name: 'a0', kind: 'str', required: false, data: at((i) => (i % 3 === 2 ? null : texts[i % 4]!)) },
    { name: 'a1', kind: 'str', required: false, data: at((i) => `unique é ${i} ${'x'.repeat(i % 40)}`) },
    { name: 'links', kind: 'str', required: false, data: at((i) => (i % 7 === 0 ? `[{"t":"${i}"}]` : null)), encoding: 'PLAIN' },
    { name: 'nothing', kind: 'str', required: false, data: at(() => null) },
    { name: 'nothing_dict', kind: 'str', required: false, data: at(() => null), encoding: 'RLE_DICTIONARY' },
    { name: 'no_ints', kind: 'i64', required: false, data: at(() => null), encoding: 'PLAIN' },
    { name: 'rest', kind: 'list', required: false, data: at((i) => (i % 4 === 0 ? null : i % 4 === 1 ? [] : at(() => 0).slice(0, (i % 3) + 1).map((_, k) => `k${k}\u001f${texts[(i + k) % texts.length]}`))) },
  ];
}

describe('parquet writer', () => {
  it('round-trips every column shape through DuckDB and hyparquet, zstd and uncompressed', async () => {
    await initZstd();
    const cols = allShapes(1000);
    for (const codec of ['zstd', 'none'] as const) {
      const { file, query } = await roundTrip(cols, parquetBytes(fileColumns(cols), codec));
      const meta = await query(`SELECT path_in_schema, encodings, stats_min_value, stats_max_value, compression FROM parquet_metadata('${file}')`);
      const by = new Map(meta.map((r) => [String(r[0]), r]));
      // Statistics where they are asked for, compared unsigned for UINT_64.
      assert.equal(by.get('tid_hi')![2], String(0x7fff_ffff_ffff_fff0n));
      assert.equal(by.get('tid_hi')![3], String(0x7fff_ffff_ffff_fff0n + 999n * 3n));
      assert.equal(by.get('start_us')![2], String(-998n * 1_000_003n));
      assert.equal(by.get('start_us')![3], String(999n * 1_000_003n));
      assert.equal(by.get('service')![2], null);
      // The encodings asked for, and the automatic choice for texts: a dictionary where it pays.
      assert.match(String(by.get('service')![1]), /RLE_DICTIONARY/);
      assert.match(String(by.get('a0')![1]), /RLE_DICTIONARY/);
      assert.doesNotMatch(String(by.get('a1')![1]), /DICTIONARY/);
      assert.doesNotMatch(String(by.get('sid')![1]), /DICTIONARY/);
      assert.equal(by.get('sid')![4], codec === 'zstd' ? 'ZSTD' : 'UNCOMPRESSED');
      const createdBy = await query(`SELECT created_by FROM parquet_file_metadata('${file}')`);
      assert.equal(createdBy[0]![0], PARQUET_CREATED_BY);
      // DuckDB prunes by the statistics: a range past the max reads nothing.
      const none = await query(`SELECT count(*) FROM read_parquet('${file}') WHERE tid_hi > ${0x7fff_ffff_ffff_fff0n + 3000n}`);
      assert.equal(Number(none[0]![0]), 0);
    }
  });

  it('writes one row, and files in several row groups', async () => {
    await initZstd();
    await roundTrip(allShapes(1), parquetBytes(fileColumns(allShapes(1)), 'zstd'));
    const cols = allShapes(300);
    const { file, query } = await roundTrip(cols, await compactedParquetBytes(fileColumns(cols), 128, 3));
    const groups = await query(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${file}') ORDER BY 1`);
    assert.deepStrictEqual(groups.map((g) => Number(g[1])), [128, 128, 44]);
  });

  it('falls back to PLAIN past 65 536 distinct dictionary values', async () => {
    await initZstd();
    const n = MAX_DICTIONARY + 10;
    const names = Array.from({ length: n }, (_, i) => `name-${i}`);
    const cols: Col[] = [
      { name: 'name', kind: 'str', required: true, data: names, encoding: 'RLE_DICTIONARY' },
      { name: 'code', kind: 'i32', required: false, data: Array.from({ length: n }, (_, i) => (i === 5 ? null : i)), encoding: 'RLE_DICTIONARY' },
    ];
    const { file, query } = await roundTrip(cols, parquetBytes(fileColumns(cols), 'zstd'));
    const meta = await query(`SELECT path_in_schema, encodings FROM parquet_metadata('${file}')`);
    for (const [path, encodings] of meta) assert.doesNotMatch(String(encodings), /DICTIONARY/, String(path));
  });

  it('writes an empty file with no row groups', async () => {
    await initZstd();
    const cols = allShapes(0);
    const { file, query } = await roundTrip(cols, parquetBytes(fileColumns(cols), 'zstd'));
    assert.equal(Number((await query(`SELECT count(*) FROM read_parquet('${file}')`))[0]![0]), 0);
  });

  it('encodes the RLE/bit-packed hybrid as the spec has it', () => {
    const out = new ByteSink(16);
    // 10 ones: one RLE run (header 10 << 1, value byte); then 3 values bit-packed in one group.
    writeHybrid(out, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 1], 13, 2);
    assert.deepStrictEqual([...out.bytes()], [20, 1, 3, 0b01_11_10, 0]);
  });
});
