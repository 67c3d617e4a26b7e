/**
 * One block → Parquet bytes (hyparquet-writer, pure JS) → a durable file. Node 20's zlib has no
 * zstd, so pages are compressed by zstd compiled to wasm (@bokuweb/zstd-wasm: no native build, no
 * download at install), level 1: the cheapest level, and micro-blocks are rewritten by compaction
 * anyway.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { compress, init } from '@bokuweb/zstd-wasm';
import { ByteWriter, ParquetWriter, parquetWrite } from 'hyparquet-writer';
import type { ColumnSource, ParquetWriteOptions } from 'hyparquet-writer';
import type { BlockColumns } from './block-columns.js';

export type BlockCodec = 'zstd' | 'none';

let zstdReady: Promise<void> | undefined;

/** Loads the zstd wasm module (once per process). */
export function initZstd(): Promise<void> {
  if (zstdReady === undefined) zstdReady = init();
  return zstdReady;
}

const zstd1 = (input: Uint8Array): Uint8Array => compress(input, 1);

/** The Parquet bytes of a block: one row group (a micro-block is small; compaction sizes the big ones). */
export function parquetBytes(block: BlockColumns, codec: BlockCodec): Uint8Array {
  const writer = new ByteWriter();
  // Synchronous with an in-memory writer (it returns a promise only for writers that flush).
  const pending = parquetWrite({
    writer,
    columnData: block.columnData,
    schema: block.schema as unknown as ParquetWriteOptions['schema'],
    codec: codec === 'zstd' ? 'ZSTD' : 'UNCOMPRESSED',
    compressors: codec === 'zstd' ? { ZSTD: zstd1 } : {},
    statistics: true,
    rowGroupSize: Math.max(1, block.rows),
  });
  if (pending !== undefined) throw new Error('block store: hyparquet-writer wrote asynchronously to a ByteWriter');
  return writer.getBytes();
}

/**
 * The Parquet bytes of a compacted file built in JS (head-compaction.ts): row groups of `rowGroup`
 * rows, zstd at `level`. Written one row group at a time, letting other work run between them
 * (a 16 384-row group takes tens of ms of the JS thread).
 */
export async function compactedParquetBytes(block: Pick<BlockColumns, 'rows' | 'columnData' | 'schema'>, rowGroup: number, level: number): Promise<Uint8Array> {
  const writer = new ByteWriter();
  const pq = new ParquetWriter({
    writer,
    schema: block.schema as unknown as NonNullable<ParquetWriteOptions['schema']>,
    codec: 'ZSTD',
    compressors: { ZSTD: (input: Uint8Array) => compress(input, level) },
    statistics: true,
  });
  for (let at = 0; at < block.rows; at += rowGroup) {
    const end = Math.min(block.rows, at + rowGroup);
    const columnData = block.columnData.map((c) => ({ ...c, data: c.data.slice(at, end) as ColumnSource['data'] }));
    if (pq.write({ columnData, rowGroupSize: end - at }) !== undefined) throw new Error('block store: hyparquet-writer wrote asynchronously to a ByteWriter');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (pq.finish() !== undefined) throw new Error('block store: hyparquet-writer finished asynchronously on a ByteWriter');
  return writer.getBytes();
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
