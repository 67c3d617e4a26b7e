/**
 * One block → Parquet bytes (our writer, parquet-pages.ts) → a durable file. Node 20's zlib has no
 * zstd, so pages are compressed by zstd compiled to wasm (@bokuweb/zstd-wasm: no native build, no
 * download at install), level 1 for micro-blocks: the cheapest level.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { compressUsingDict, createCCtx, init } from '@bokuweb/zstd-wasm';
import type { BlockColumns } from './block-columns.js';
import { ByteSink } from './byte-sink.js';
import { leavesOf, writeChunk, writeFooter } from './parquet-pages.js';
import type { PageCompressor, RowGroupMeta } from './parquet-pages.js';

export type BlockCodec = 'zstd' | 'none';

/** `created_by` of the files we write (DuckDB's compactions write their own). */
export const PARQUET_CREATED_BY = 'linktrace';

let zstdReady: Promise<void> | undefined;

/** Loads the zstd wasm module (once per process). */
export function initZstd(): Promise<void> {
  if (zstdReady === undefined) zstdReady = init();
  return zstdReady;
}

const NO_DICTIONARY = new Uint8Array(0);
let cctx: number | undefined;

/**
 * zstd at `level` through one compression context kept for the process: the library's `compress`
 * creates and frees a context per call (its tables set up again for every page).
 */
function zstdAt(level: number): PageCompressor {
  return (page) => {
    cctx ??= createCCtx();
    return compressUsingDict(cctx, page, NO_DICTIONARY, level);
  };
}

/** The columns a Parquet file is written from (a block, or merged blocks: head-compaction.ts). */
type FileColumns = Pick<BlockColumns, 'rows' | 'columnData' | 'schema'>;

/** Writes a file of `block`'s rows in row groups of `rowGroup` rows, yielding between groups if asked. */
function* fileBytes(block: FileColumns, rowGroup: number, compress: PageCompressor, codec: BlockCodec): Generator<void, Uint8Array> {
  const leaves = leavesOf(block.schema, block.columnData);
  // Room for a typical block at ~40 B/span uncompressed (grown if needed).
  const out = new ByteSink(4096 + block.rows * (compress === undefined ? 64 : 32));
  out.u32(0x31524150);
  const groups: RowGroupMeta[] = [];
  for (let at = 0; at < block.rows; at += rowGroup) {
    const end = Math.min(block.rows, at + rowGroup);
    const offset = out.at;
    groups.push({ rows: end - at, offset, chunks: leaves.map((leaf) => writeChunk(out, leaf, at, end, compress)) });
    if (end < block.rows) yield;
  }
  writeFooter(out, block.schema, groups, codec, PARQUET_CREATED_BY);
  return out.bytes();
}

/** The Parquet bytes of a block: one row group (a micro-block is small; compaction sizes the big ones). */
export function parquetBytes(block: FileColumns, codec: BlockCodec): Uint8Array {
  const it = fileBytes(block, Math.max(1, block.rows), codec === 'zstd' ? zstdAt(1) : undefined, codec);
  for (;;) {
    const step = it.next();
    if (step.done === true) return step.value;
  }
}

/**
 * The Parquet bytes of a compacted file built in JS (head-compaction.ts): row groups of `rowGroup`
 * rows, zstd at `level`. Written one row group at a time, letting other work run between them.
 */
export async function compactedParquetBytes(block: FileColumns, rowGroup: number, level: number): Promise<Uint8Array> {
  const it = fileBytes(block, rowGroup, zstdAt(level), 'zstd');
  for (;;) {
    const step = it.next();
    if (step.done === true) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Fsyncs a directory, so that a rename or unlink in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Fsyncs a file that something else (DuckDB's COPY) wrote. */
export async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `bytes` to `file` so that after it resolves the whole file is on disk or, after a crash
 * before that, not there under its name: written as `<file>.tmp`, fsynced, renamed, directory fsynced.
 */
export async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dirname(file));
}
