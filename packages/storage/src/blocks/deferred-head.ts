/**
 * Deferred durability (block-store.ts `durability: 'deferred'`, issue 12): for a caller that keeps
 * its own log of what it wrote and replays it after a crash (the server's write-ahead log). A write
 * resolves once its spans are in the head, in memory; the head is written as ONE file, sorted by
 * trace id and zstd-compressed as compaction writes them, when it holds `flushRows` spans, when its
 * oldest block is `flushAgeMs` old, on `flush()` and on close. No micro-block file is fsynced and
 * nothing is compacted at a steady rate: every span is encoded once, and its Parquet file is built
 * once (the micro-blocks' build, fsync per batch and DuckDB's rewrite of them were ~30 µs/span).
 *
 * Meanwhile the head's blocks are live entries of the block set (block-set.ts) that the manifest
 * does not list, read by every query with the files: a trace lookup from their columns in memory
 * (head-block.ts), any other query from a file the block gets the first time a query reads files
 * (`materialize`: uncompressed, not fsynced, deleted once the head is written; open removes it after
 * a crash, the caller's replay writes its spans again). This class keeps the book: which blocks are
 * not durable yet, who waits for them (`whenDurable`), when to write the head, and the bound on
 * memory (`room`: past `flushRows` spans waiting beside a head being written, writes wait).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockColumns } from './block-columns.js';
import type { BlockFile } from './manifest.js';
import { parquetBytes } from './parquet-file.js';

export interface DeferredHeadOptions {
  dir: string;
  /** Write the head once it holds this many spans… */
  flushRows: number;
  /** …or this many bytes of heap (estimated, `estimatedBytes`)… */
  flushBytes: number;
  /** …or this many blocks (each is a file for a query that reads files: few and large read faster). */
  flushBlocks: number;
  /** …or once its oldest block is this old (ms, the store's clock). */
  flushAgeMs: number;
  /** The store's clock, ms. */
  clock: () => number;
}

interface Volatile {
  /** The block's number (`bseq` of its rows). */
  bseq: number;
  rows: number;
  bytes: number;
  block: BlockColumns;
  /** When it entered the head (ms). */
  addedMs: number;
  /** It has a (not durable) file for queries. */
  written: boolean;
}

interface Waiter {
  /** Durable once no head block numbered up to this is left. */
  upto: number;
  resolve(): void;
}

export class DeferredHead {
  private readonly blocks = new Map<string, Volatile>();
  private waiters: Waiter[] = [];
  private rows = 0;
  private bytes = 0;
  /** The blocks the head write under way takes (their rows do not count against `room`). */
  private taken = new Set<string>();
  private takenRows = 0;
  private takenBytes = 0;
  private roomWaiters: (() => void)[] = [];

  constructor(private readonly o: DeferredHeadOptions) {}

  /** Spans in the head (not yet in a durable file). */
  get size(): number {
    return this.rows;
  }

  has(name: string): boolean {
    return this.blocks.has(name);
  }

  /** A block entered the head (named `name` in the block set). */
  add(name: string, block: BlockColumns, bseq: number): void {
    const bytes = estimatedBytes(block);
    this.blocks.set(name, { bseq, rows: block.rows, bytes, block, addedMs: this.o.clock(), written: false });
    this.rows += block.rows;
    this.bytes += bytes;
  }

  /** Estimated heap bytes of the head's blocks. */
  get heapBytes(): number {
    return this.bytes;
  }

  /** Whether the blocks not being written hold a head's worth (rows, bytes or blocks). */
  private full(): boolean {
    return this.rows - this.takenRows >= this.o.flushRows || this.bytes - this.takenBytes >= this.o.flushBytes || this.blocks.size - this.taken.size >= this.o.flushBlocks;
  }

  /** Whether the head should be written now: full, or its oldest block old enough. */
  due(): boolean {
    const waiting = this.rows - this.takenRows;
    if (waiting === 0) return false;
    if (this.full()) return true;
    const now = this.o.clock();
    for (const [name, v] of this.blocks) if (!this.taken.has(name) && now - v.addedMs >= this.o.flushAgeMs) return true;
    return false;
  }

  /** Marks the head blocks among `files` as taken by a head write; returns them. */
  take(files: readonly BlockFile[]): BlockFile[] {
    const out = files.filter((f) => this.blocks.has(f.name) && !this.taken.has(f.name));
    for (const f of out) {
      const v = this.blocks.get(f.name)!;
      this.taken.add(f.name);
      this.takenRows += v.rows;
      this.takenBytes += v.bytes;
    }
    return out;
  }

  /** The head write under way ended (written or failed): its blocks' rows count as waiting again if still here. */
  untake(): void {
    this.taken = new Set();
    this.takenRows = 0;
    this.takenBytes = 0;
    this.wakeRoom();
  }

  /**
   * Resolves when a write may add spans: at once unless a head's worth (`flushRows` spans or
   * `flushBytes`) already waits beside the head being written (then the head holds two heads' worth:
   * memory is bounded, and the caller's queue fills and refuses instead).
   */
  room(): Promise<void> {
    if (!this.full() || this.takenRows === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve)).then(() => this.room());
  }

  private wakeRoom(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /**
   * Gives the head blocks among `files` a file for DuckDB to read: uncompressed (the cheapest to
   * build, read at most until the head is written), not fsynced (never named in the manifest).
   */
  materialize(files: readonly BlockFile[]): void {
    for (const f of files) {
      const v = this.blocks.get(f.name);
      if (v === undefined || v.written) continue;
      const bytes = parquetBytes(v.block, 'none');
      writeFileSync(join(this.o.dir, f.name), bytes);
      v.written = true;
      f.bytes = bytes.byteLength;
    }
  }

  /**
   * Resolves once every span in the head now is durable (in a file the manifest names, or deleted
   * by retention); at once when the head is empty.
   */
  whenDurable(): Promise<void> {
    let upto = -1;
    for (const v of this.blocks.values()) upto = Math.max(upto, v.bseq);
    if (upto < 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upto, resolve }));
  }

  /** The live files changed (a head write, retention): head blocks no longer live are no longer waited for. */
  settle(live: readonly BlockFile[]): void {
    const names = new Set(live.map((f) => f.name));
    for (const [name, v] of this.blocks) {
      if (names.has(name)) continue;
      this.blocks.delete(name);
      this.rows -= v.rows;
      this.bytes -= v.bytes;
      if (this.taken.delete(name)) {
        this.takenRows -= v.rows;
        this.takenBytes -= v.bytes;
      }
    }
    let oldest = Infinity;
    for (const v of this.blocks.values()) oldest = Math.min(oldest, v.bseq);
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.upto < oldest) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
    this.wakeRoom();
  }
}

/** Values of a text column measured per value counted: one in this many (the rest assumed alike). */
const SAMPLE_EVERY = 16;
/** Heap bytes of a string beyond its characters (V8's header), and of an array slot. */
const STRING_HEADER = 16;
const SLOT = 8;

/**
 * Estimated heap bytes of a block's columns: typed arrays by their size; other columns a slot per
 * row plus their texts, measured on one row in SAMPLE_EVERY (one byte per character: V8 keeps
 * Latin-1 text so; a wider text is under-counted by up to half). Every value counts as a string of
 * its own, as it is when decoded from a request; repeated texts that share one string (spans built
 * in one process) are over-counted: 98 MB estimated against 35 MB of heap for 122 880 realistic
 * spans made by the test generator.
 */
export function estimatedBytes(block: BlockColumns): number {
  let bytes = 0;
  for (const c of block.columnData) {
    const data = c.data as unknown;
    if (ArrayBuffer.isView(data)) {
      bytes += data.byteLength;
      continue;
    }
    const values = data as readonly unknown[];
    bytes += values.length * SLOT;
    let text = 0;
    for (let i = 0; i < values.length; i += SAMPLE_EVERY) {
      const v = values[i];
      if (typeof v === 'string') text += v.length + STRING_HEADER;
    }
    bytes += text * SAMPLE_EVERY;
  }
  return bytes;
}
