/**
 * The block store (issue 12): spans in immutable Parquet files under `<dataDir>/blocks/`, the small
 * tables (findings, SDK drops, attribute slots, tombstones) in a DuckDB file beside them.
 *
 * - A write batch (concurrent `writeSpans` calls group-committed, block-writer.ts) becomes one
 *   micro-block: columns built in JS, Parquet written by parquet-pages.ts, fsynced, named in the
 *   manifest; then the calls resolve (resolved = durable).
 * - Or, with `durability: 'deferred'` (the server, whose write-ahead log replays what is not durable
 *   yet), a batch resolves once in the in-memory head, and the head is written as one trace-sorted
 *   file when full or old (deferred-head.ts); `whenDurable` says when.
 * - In the background, micro-blocks are merged by DuckDB into one file sorted by trace id
 *   (compaction; optionally in JS from the head's columns, head-compaction.ts), swapped in the
 *   manifest atomically; readers keep the files they started with.
 * - Queries are the embedded store's SQL, with `spans` / `span_links` defined over the files.
 * - Retention drops whole files by arrival time; a file straddling the cutoff is rewritten.
 */
import { mkdirSync, readdirSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { isValidTraceId } from '@linktrace/model';
import type { Span, SpanKind } from '@linktrace/model';
import { mergeRecords } from '../record-merge.js';
import { StorageInputError, StoreClosedError } from '../storage-error.js';
import type {
  DeletedRecords,
  DependencyLink,
  Finding,
  FindingFilter,
  Operation,
  RetentionResult,
  SdkDropReport,
  ServiceMapRow,
  SpanStore,
  StoreStats,
  TraceQuery,
  TraceSummary,
  WriteSpansOptions,
} from '../types.js';
import {
  validateFindingFilter,
  validateFindings,
  validateSdkDropReports,
  validateServiceName,
  validateSpans,
  validateTimeRange,
  validateTraceQuery,
  validateWriteOptions,
} from '../validate.js';
import { AttributeColumns } from '../embedded/attribute-columns.js';
import type { AttributeColumnPolicy } from '../embedded/attribute-columns.js';
import { appendFindings, findingFromRow, findingsSql, FINDINGS_MIGRATIONS, replacedTraceIds } from '../embedded/findings-table.js';
import { DEPENDENCIES_SQL, traceSearchSql } from '../embedded/query-sql.js';
import type { SearchHints, Statement } from '../embedded/query-sql.js';
import { countFindings, sortSpans, sortSummaries, summaryFromRow, TRACE_IDS_PER_QUERY } from '../embedded/read-results.js';
import { ATTRIBUTE_COLUMNS_TABLE, FINDINGS_TABLE, META_TABLE, SCHEMA_VERSION, tidFromHex, TRACE_KEY_TEXT } from '../embedded/schema.js';
import { CREATE_SDK_DROPS, SDK_DROPS_SQL, deleteSdkDropsBefore, sdkDropFromRow, upsertSdkDrops } from '../embedded/sdk-drops-table.js';
import { loadWrittenSets } from '../embedded/search-hints.js';
import { serviceMapSql } from '../embedded/service-map-sql.js';
import { decodeSpanRow } from '../embedded/span-row-decoder.js';
import { KIND_CODE, SpanRowEncoder } from '../embedded/span-row-encoder.js';
import { escapeText, unescapeText } from '../embedded/text-codec.js';
import { SUMMARY_ROW_SQL, summarySelect } from '../embedded/trace-summaries.js';
import { copyBlocks, fileSummariesSql, TRACE_SUMMARIES_SUFFIX, traceSummariesPath } from './block-copy.js';
import { lookupWidth, overBlocks, resolveParents, spansRelationSql } from './block-relation.js';
import { FooterCache, groupsHolding, plannedLookupSql } from './lookup-plan.js';
import { nextWindowRows, searchCutoffs } from './search-window.js';
import { SummaryCache } from './summary-cache.js';
import type { StartGroup } from './search-window.js';
import type { RelationOptions } from './block-relation.js';
import { BlockSet } from './block-set.js';
import type { Snapshot } from './block-set.js';
import { BlockWriter } from './block-writer.js';
import type { BlockColumns } from './block-columns.js';
import { hex16 } from './head-block.js';
import type { Head, HeadBlock, HeadRow } from './head-block.js';
import { compactHeadBlocks } from './head-compaction.js';
import { DeferredHead } from './deferred-head.js';
import type { BlockCodec } from './parquet-file.js';
import { initZstd } from './parquet-file.js';
import { loadManifest, MANIFEST_FILE, restMayHold, saveManifest } from './manifest.js';
import type { BlockFile, ManifestState } from './manifest.js';
import { readTraceIndex } from './trace-index.js';
import { addTombstones, dropSpentTombstones, lastTombstone, TOMBSTONES_TABLE } from './tombstones.js';

export const BLOCKS_DIR = 'blocks';
export const BLOCKS_DATABASE_FILE = 'linktrace-blocks.duckdb';

export interface BlockStoreOptions {
  /** Directory holding `blocks/` and the small database; created when missing. */
  dataDir: string;
  /** Read connections (queries run concurrently up to this many). Default 2. */
  readers?: number;
  /** DuckDB worker threads. Default: DuckDB's (the number of cores). */
  threads?: number;
  /** DuckDB memory limit, e.g. `'1GB'`. Default: DuckDB's. */
  memoryLimit?: string;
  /** Page compression of micro-blocks (compaction always writes zstd). Default 'zstd' (level 1). */
  microCodec?: BlockCodec;
  /** Compact once this many micro-blocks wait… Default 32. */
  compactFiles?: number;
  /** …or once they hold this many spans. Default 122 880 (one compacted row group). */
  compactRows?: number;
  /** A search reads the newest row groups holding about an eighth of this many spans first, then 4× more each round (search-window.ts). Default 122 880. */
  searchRows?: number;
  /**
   * Spans of the newest micro-blocks kept in memory for trace lookups (head-block.ts), at most.
   * Default 131 072: what waits for compaction by default (122 880) fits; measured ~470 bytes of
   * heap per span on realistic spans, so ~60 MB. 0: no head. Not with deferred durability, whose
   * head holds every block not written out yet (bounded by `flushRows`, `flushBytes`, `flushBlocks`).
   */
  headRows?: number;
  /**
   * Compact micro-blocks whose columns are all in the head in JS (head-compaction.ts) instead of
   * DuckDB re-reading their files; DuckDB still compacts whatever the JS path does not take.
   * Default false: measured (docs/benchmarks.md) it costs about the CPU of DuckDB's compaction,
   * and on the JS thread (the merge is one synchronous step of ~1.2 µs/span).
   */
  jsCompaction?: boolean;
  /** When attribute keys get a column of their own; see attribute-columns.ts. */
  attributeColumns?: AttributeColumnPolicy;
  /** The store's clock, ms since the epoch (default `Date.now`): arrival time of a batch, for retention. */
  clock?: () => number;
  /**
   * 'immediate' (default): `writeSpans` resolves once its spans are durable (a micro-block file per
   * write batch, compacted later). 'deferred': it resolves once they are in the in-memory head, read
   * by every query at once; the head is written as one trace-sorted file (deferred-head.ts) when it
   * holds `flushRows` spans, is `flushAgeMs` old, on `flush()` and on close, and `whenDurable()`
   * resolves once what was written before is in such a file. Only for a caller that can write again
   * what a crash lost of the head (the server replays its write-ahead log).
   */
  durability?: 'immediate' | 'deferred';
  /** Deferred durability: write the head once it holds this many spans. Default 122 880. */
  flushRows?: number;
  /**
   * Deferred durability: …or this many bytes of heap (estimated from its columns, deferred-head.ts
   * `estimatedBytes`, which counts every text value as its own string: 122 880 realistic spans are
   * estimated at 98 MB). Default 128 MiB, so that the row bound comes first on such spans and the
   * byte bound on spans with large attributes. The head holds at most two of these (one being
   * written, one filling) before writes wait.
   */
  flushBytes?: number;
  /**
   * Deferred durability: …or once it holds this many blocks (write batches). Default 32. Each head
   * block is a file of its own for a query that reads files (a search: 200 blocks of 50 spans took
   * 3× the time of the same spans in one file), so a slow stream of small batches is written in
   * small files, which compaction then merges, as micro-blocks were; at a high rate batches are
   * large and the row bound comes first.
   */
  flushBlocks?: number;
  /** Deferred durability: write the head once its oldest spans are this old (ms). Default 15 000. */
  flushAgeMs?: number;
}

/** Deferred durability: how often the head's age is checked (ms; at most its flush age). */
const HEAD_AGE_CHECK_MS = 1000;
/** Deferred durability: after a failed head write, the next try waits this long (ms). */
const HEAD_RETRY_MS = 1000;

/** Data directories open in this process (two stores on one manifest would lose each other's files). */
const OPEN_DIRS = new Set<string>();

/** Past this many candidate spans a search stops widening in rounds and reads every match. */
const MAX_SEARCH_CANDIDATES = 1_000_000;

const ZERO16 = '0000000000000000';
const keyOf = (id: string): string => (id.length === 16 ? ZERO16 + id : id);

/**
 * The columns of a `trace_summaries` row but its id, empty but for the start (the newest matching
 * span's, from the CTE `hits`): the first step of a search needs only the ids and that start.
 */
const EMPTY_SUMMARY =
  `NULL::BOOLEAN AS t64, newest AS start_us, 0::BIGINT AS end_us, 0::INTEGER AS span_count, 0::INTEGER AS error_count, ` +
  `[]::VARCHAR[] AS services, NULL::VARCHAR AS root_service, NULL::VARCHAR AS root_name`;

export class BlockStore implements SpanStore {
  private closed = false;
  private readonly readerLoad: number[];
  private readonly inflight = new Set<Promise<unknown>>();
  /** Block mutations (micro-block commits, swaps, tombstones, retention) run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Small-table writes on the writer connection, one at a time. */
  private dbChain: Promise<unknown> = Promise.resolve();
  private compacting: Promise<void> | undefined;
  private compactAgain = false;
  /** Row-group statistics of the block files, for trace lookups (lookup-plan.ts). */
  private readonly footers = new FooterCache();
  /** Summary rows read from summaries files, by file and trace (`summariesOf`). */
  private readonly summaryCache = new SummaryCache();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly compactor: DuckDBConnection,
    private readonly readers: DuckDBConnection[],
    private readonly dir: string,
    private readonly dbFile: string,
    private readonly state: ManifestState,
    private readonly set: BlockSet,
    private readonly columns: AttributeColumns,
    private readonly hints: SearchHints,
    private readonly blocks: BlockWriter,
    private tombstones: number,
    private findingSeq: number,
    private readonly compactFiles: number,
    private readonly compactRows: number,
    private readonly searchRows: number,
    private readonly dataDir: string,
    private readonly jsCompaction: boolean,
    /** Deferred durability: the head's book-keeping, and the connection its writes use. */
    private readonly deferred: DeferredHead | undefined,
    private readonly flusher: DuckDBConnection | undefined,
    private readonly flushRows: number,
    private readonly clock: () => number,
  ) {
    this.readerLoad = readers.map(() => 0);
  }

  static async open(options: BlockStoreOptions): Promise<BlockStore> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '') throw new TypeError('block store: dataDir must be a directory path');
    const readerCount = options.readers ?? 2;
    if (!Number.isInteger(readerCount) || readerCount < 1 || readerCount > 64) throw new RangeError('block store: readers must be an integer in 1..64');
    const headRows = options.headRows ?? 131_072;
    if (!Number.isSafeInteger(headRows) || headRows < 0) throw new RangeError('block store: headRows must be an integer ≥ 0');
    const durability = options.durability ?? 'immediate';
    if (durability !== 'immediate' && durability !== 'deferred') throw new RangeError(`block store: durability must be 'immediate' or 'deferred'`);
    const flushRows = options.flushRows ?? 122_880;
    if (!Number.isSafeInteger(flushRows) || flushRows < 1) throw new RangeError('block store: flushRows must be an integer ≥ 1');
    const flushBytes = options.flushBytes ?? 128 * 1024 * 1024;
    if (!Number.isFinite(flushBytes) || flushBytes < 1) throw new RangeError('block store: flushBytes must be a number ≥ 1');
    const flushBlocks = options.flushBlocks ?? 32;
    if (!(flushBlocks >= 1)) throw new RangeError('block store: flushBlocks must be ≥ 1');
    const flushAgeMs = options.flushAgeMs ?? 15_000;
    if (!Number.isFinite(flushAgeMs) || flushAgeMs < 0) throw new RangeError('block store: flushAgeMs must be a number ≥ 0');
    const clock = options.clock ?? Date.now;
    mkdirSync(options.dataDir, { recursive: true });
    const dataDir = realpathSync(options.dataDir);
    if (OPEN_DIRS.has(dataDir)) throw new Error(`block store: ${dataDir} is already open in this process`);
    const dir = join(dataDir, BLOCKS_DIR);
    mkdirSync(dir, { recursive: true });
    OPEN_DIRS.add(dataDir);
    const dbFile = join(dataDir, BLOCKS_DATABASE_FILE);
    const config: Record<string, string> = { storage_compatibility_version: 'latest' };
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    let instance: DuckDBInstance;
    try {
      await initZstd();
      instance = await DuckDBInstance.create(dbFile, config);
    } catch (err) {
      OPEN_DIRS.delete(dataDir);
      throw err;
    }
    const opened: DuckDBConnection[] = [];
    try {
      const writer = await instance.connect();
      opened.push(writer);
      for (const ddl of [META_TABLE, ATTRIBUTE_COLUMNS_TABLE, FINDINGS_TABLE, ...FINDINGS_MIGRATIONS, CREATE_SDK_DROPS, TOMBSTONES_TABLE]) await writer.run(ddl);
      const version = (await writer.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema'`)).getRowsJS();
      if (version.length === 0) await writer.run(`INSERT INTO meta VALUES ('schema', 'blocks-${SCHEMA_VERSION}')`);
      else if (version[0]![0] !== `blocks-${SCHEMA_VERSION}`) throw new Error(`block store: ${dbFile} has schema ${String(version[0]![0])}, this version reads blocks-${SCHEMA_VERSION}`);
      // Block files are immutable and never renamed over: their Parquet metadata can be cached.
      await writer.run(`SET GLOBAL parquet_metadata_cache = true`);
      const state = await loadManifest(dir);
      removeLeftovers(dir, state);
      // A block number a tombstone names is never given again (the manifest's number may lag behind
      // blocks of a deferred head lost in a crash: a replayed span must not fall under such a tombstone).
      const uptoMax = (await writer.runAndReadAll(`SELECT coalesce(max(upto), 0)::DOUBLE FROM tombstones`)).getRowsJS()[0]![0] as number;
      if (uptoMax >= state.nextSeq) state.nextSeq = uptoMax + 1;
      // Deferred: the head holds every block not yet written out, whatever its size (bounded by `room`).
      const set = new BlockSet(dir, state.files, durability === 'deferred' ? Infinity : headRows);
      for (const f of state.files) set.traces.set(f.name, await readTraceIndex(writer, join(dir, f.name)));
      const compactor = await instance.connect();
      opened.push(compactor);
      const readers: DuckDBConnection[] = [];
      for (let i = 0; i < readerCount; i++) {
        const c = await instance.connect();
        opened.push(c);
        readers.push(c);
      }
      let flusher: DuckDBConnection | undefined;
      if (durability === 'deferred') {
        flusher = await instance.connect();
        opened.push(flusher);
      }
      const keys = (await writer.runAndReadAll(`SELECT key FROM attribute_columns ORDER BY slot`)).getRowsJS().map((r) => r[0] as string);
      const seq = (await writer.runAndReadAll(`SELECT coalesce(max(seq), 0)::DOUBLE FROM findings`)).getRowsJS()[0]![0] as number;
      const tombstones = (await writer.runAndReadAll(`SELECT count(*)::DOUBLE FROM tombstones`)).getRowsJS()[0]![0] as number;
      const columns = new AttributeColumns(keys, options.attributeColumns);
      const snap = set.acquire();
      let written;
      try {
        written = await loadWrittenSets(writer, (sql) => overBlocks(sql, spansRelationSql(snap, { tombstones: tombstones > 0, parents: readsParents(sql) })));
      } finally {
        snap.release();
      }
      const encoder = new SpanRowEncoder(columns, written);
      // The writer calls back into the store it is part of.
      const self: { store?: BlockStore } = {};
      const blocks = new BlockWriter({
        dir,
        encoder,
        columns,
        codec: options.microCodec ?? 'zstd',
        nowUs: () => Math.floor(clock() * 1000),
        nextSeq: () => state.nextSeq++,
        saveSlots: (slots) => self.store!.saveSlots(slots),
        commit: (file, his) => self.store!.commitMicroBlock(file, his),
        deferred: durability === 'deferred',
      });
      const deferred = durability === 'deferred' ? new DeferredHead({ dir, flushRows, flushBytes, flushBlocks, flushAgeMs, clock }) : undefined;
      const store = new BlockStore(
        instance,
        writer,
        compactor,
        readers,
        dir,
        dbFile,
        state,
        set,
        columns,
        written.hints,
        blocks,
        tombstones,
        seq,
        options.compactFiles ?? 32,
        options.compactRows ?? 122_880,
        Math.max(1, options.searchRows ?? 122_880),
        dataDir,
        options.jsCompaction ?? false,
        deferred,
        flusher,
        flushRows,
        clock,
      );
      self.store = store;
      set.onRetiredReleased = () => store.dropTombstonesLater();
      if (deferred !== undefined) {
        set.beforeRead = (files) => deferred.materialize(files);
        set.onSwap = () => deferred.settle(set.files);
        store.ageTimer = setInterval(() => store.maybeWriteHead(), Math.max(1, Math.min(HEAD_AGE_CHECK_MS, flushAgeMs)));
        store.ageTimer.unref();
      }
      return store;
    } catch (err) {
      for (const c of opened) c.closeSync();
      instance.closeSync();
      OPEN_DIRS.delete(dataDir);
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Runs `fn` after every earlier block mutation. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` on the writer connection after every earlier small-table write. */
  private dbExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.dbChain.then(fn, fn);
    this.dbChain = run.catch(() => undefined);
    return run;
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.writer.run('BEGIN TRANSACTION');
    try {
      const result = await fn();
      await this.writer.run('COMMIT');
      return result;
    } catch (err) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Records newly promoted attribute slots (before any file using them is named in the manifest). */
  private saveSlots(slots: readonly number[]): Promise<void> {
    return this.dbExclusive(() =>
      this.transaction(async () => {
        for (const slot of slots) await this.writer.run(`INSERT INTO attribute_columns VALUES ($1, $2)`, [slot, this.columns.keys[slot]!]);
      }),
    );
  }

  /** Names a written micro-block in the manifest: from then on it is durable and read. */
  private commitMicroBlock(file: Omit<BlockFile, 'tombApplied'>, block: BlockColumns): Promise<void> {
    return this.exclusive(async () => {
      this.set.traces.set(file.name, block.traceHis);
      // Its records are newer than every tombstone given so far: none applies to it.
      const entry: BlockFile = { ...file, tombApplied: await this.dbExclusive(() => lastTombstone(this.writer)) };
      if (this.deferred !== undefined) {
        // In the head only: the manifest names it once the head is written (deferred-head.ts).
        this.set.add(entry);
        this.set.head.add(entry.name, block, file.minBseq);
        this.deferred.add(entry.name, block, file.minBseq);
        this.maybeWriteHead();
        return;
      }
      await this.saveFiles([...this.set.files, entry]);
      this.set.add(entry);
      this.set.head.add(entry.name, block, file.minBseq);
      this.maybeCompact();
    });
  }

  /**
   * Drops the tombstones no file still read can hold a covered record of (inside `exclusive` and
   * `dbExclusive`): the live `files`, and the swapped-out ones a running query still reads, which
   * filters them by the tombstones when it runs.
   */
  private async dropSpentTombstones(files: readonly BlockFile[]): Promise<void> {
    this.tombstones = await dropSpentTombstones(this.writer, [...files, ...this.set.stillRead]);
  }

  /** Persists `files` as the live list (inside `exclusive`). */
  private async saveFiles(files: readonly BlockFile[]): Promise<void> {
    // Blocks of a deferred head are live but not durable: the manifest never names them.
    this.state.files = this.deferred === undefined ? [...files] : files.filter((f) => !this.deferred!.has(f.name));
    await saveManifest(this.dir, this.state);
  }

  private relation(snap: Snapshot, parents: boolean, where?: (r: string) => string): string {
    const options: RelationOptions = { tombstones: this.tombstones > 0, parents };
    if (where !== undefined) options.where = where;
    return spansRelationSql(snap, options);
  }

  /** Runs `fn` on the least busy read connection with a snapshot of the files (released after). */
  private async read<T>(fn: (c: DuckDBConnection, snap: Snapshot) => Promise<T>, filter?: (f: BlockFile) => boolean, headInMemory = false): Promise<T> {
    this.assertOpen();
    let best = 0;
    for (let i = 1; i < this.readerLoad.length; i++) if (this.readerLoad[i]! < this.readerLoad[best]!) best = i;
    this.readerLoad[best]!++;
    const snap = this.set.acquire(filter, headInMemory);
    const p = fn(this.readers[best]!, snap);
    this.inflight.add(p);
    try {
      return await p;
    } finally {
      this.inflight.delete(p);
      this.readerLoad[best]!--;
      snap.release();
    }
  }

  /** Rows of `sql` (on the embedded tables) run over the snapshot's files. */
  private async rowsOver(c: DuckDBConnection, snap: Snapshot, s: Statement | string, where?: (r: string) => string): Promise<unknown[][]> {
    const { sql, params } = typeof s === 'string' ? { sql: s, params: [] } : s;
    return (await c.runAndReadAll(overBlocks(sql, this.relation(snap, readsParents(sql), where)), params)).getRowsJS();
  }

  writeSpans(spans: readonly Span[], options?: WriteSpansOptions): Promise<void> {
    try {
      this.assertOpen();
      validateSpans(spans);
      validateWriteOptions(options);
      if (this.deferred !== undefined) return this.deferred.room().then(() => this.blocks.write(spans, options?.arrivedUs));
      return this.blocks.write(spans, options?.arrivedUs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Writes the waiting spans now; resolves when they are durable (deferred: the head written out). */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.blocks.flush();
    if (this.deferred !== undefined) await this.whenDurable(true);
  }

  /**
   * Resolves once every span of a `writeSpans` that resolved before this call is durable: at once
   * unless durability is deferred; then once the head holding them is written out (`now`: start
   * writing it now instead of when it is full or old). A head write that fails is retried; this waits.
   */
  whenDurable(now = false): Promise<void> {
    if (this.deferred === undefined) return Promise.resolve();
    const durable = this.deferred.whenDurable();
    if (now) void this.writeHeadNow();
    return durable;
  }

  /** Whether a resolved write may not be durable yet (`durability: 'deferred'`; see `whenDurable`). */
  get defersDurability(): boolean {
    return this.deferred !== undefined;
  }

  /** Deferred durability: spans in the head, not yet in a durable file. */
  get headSpans(): number {
    return this.deferred?.size ?? 0;
  }

  private ageTimer: NodeJS.Timeout | undefined;
  private headWrite: Promise<void> | undefined;
  private headRetryAt = 0;

  /** Deferred durability: writes the head out when it is due (full, or old) and no write is under way. */
  private maybeWriteHead(): void {
    if (this.deferred === undefined || this.headWrite !== undefined || this.closed || this.clock() < this.headRetryAt || !this.deferred.due()) return;
    void this.writeHeadNow();
  }

  /** Writes out every head block not yet being written (after the write under way, if any). */
  private async writeHeadNow(): Promise<void> {
    while (this.headWrite !== undefined) await this.headWrite.catch(() => undefined);
    if (this.deferred === undefined || this.deferred.size === 0) return;
    const run = this.writeHead().then(
      () => {
        this.headRetryAt = 0;
      },
      (err: unknown) => {
        this.headRetryAt = this.clock() + HEAD_RETRY_MS;
        process.stderr.write(`block store: writing the head failed (its spans stay in memory, retried): ${String(err)}\n`);
      },
    );
    this.headWrite = run.finally(() => {
      this.headWrite = undefined;
      this.deferred?.untake();
      this.maybeCompact();
      this.maybeWriteHead();
    });
    await this.headWrite;
  }

  /**
   * Writes the head blocks live now as one file sorted by trace id (from their columns in memory,
   * as the JS compaction merges micro-blocks: head-compaction.ts; through DuckDB when a tombstone
   * hides some of their rows), then swaps it in for them, atomically in the manifest. Writes go on
   * into a new head meanwhile; the old blocks stay read until the swap. A small file (an age or
   * close write) is left to compaction as a micro-block would be: merged once several wait.
   */
  private async writeHead(): Promise<void> {
    const d = this.deferred!;
    const flusher = this.flusher!;
    // Taken now, before any await.
    const snap = this.set.acquire((f) => d.has(f.name), true);
    try {
      const inputs = d.take(snap.files);
      if (inputs.length === 0) return;
      const tombApplied = await this.dbExclusive(() => lastTombstone(this.writer));
      const hides = (f: BlockFile): boolean => this.tombstones > 0 && f.tombApplied < tombApplied;
      const name = `c-${this.state.nextSeq++}.parquet`;
      const output = join(this.dir, name);
      const heads = headColumns(this.set.head, inputs, hides);
      let merged: BlockFile | undefined;
      if (heads !== undefined) {
        const done = await compactHeadBlocks(flusher, inputs, heads, output, name, tombApplied);
        if (done !== undefined) this.set.traces.set(name, done.traceHis);
        merged = done?.file;
      } else {
        d.materialize(inputs);
        merged = await copyBlocks(flusher, inputs, inputs.map((f) => join(this.dir, f.name)), output, name, { tombstones: this.tombstones > 0, tombApplied });
        if (merged !== undefined) this.set.traces.set(merged.name, await readTraceIndex(flusher, output));
      }
      if (merged !== undefined && merged.rows < this.flushRows / 2) merged.level = 0;
      await this.exclusive(async () => {
        const live = this.set.files;
        // Retention may have dropped an input meanwhile: then this output is stale, dropped (the rest is written next time).
        if (!inputs.every((f) => live.includes(f))) {
          if (merged !== undefined) for (const p of [output, traceSummariesPath(output)]) unlinkSync(p);
          return;
        }
        const next = live.filter((f) => !inputs.includes(f));
        if (merged !== undefined) next.push(merged);
        await this.saveFiles(next);
        this.set.swap(next);
        snap.release();
        if (this.tombstones > 0) await this.dbExclusive(() => this.dropSpentTombstones(next));
      });
    } finally {
      snap.release();
    }
  }

  async getTrace(traceId: string): Promise<Span[]> {
    return (await this.getTraces([traceId]))[0]!;
  }

  async getTraces(traceIds: readonly string[]): Promise<Span[][]> {
    this.assertOpen();
    const ids = Array.isArray(traceIds) ? traceIds : [];
    const wanted = [...new Set(ids.filter((id) => isValidTraceId(id, true)).map(keyOf))].sort();
    const byKey = new Map<string, Span[]>();
    for (let i = 0; i < wanted.length; i += TRACE_IDS_PER_QUERY) {
      const chunk = wanted.slice(i, i + TRACE_IDS_PER_QUERY);
      const want = new Set(chunk);
      const lo = chunk[0]!;
      const hi = chunk[chunk.length - 1]!;
      // Files whose key range holds one of the ids (time-prefixed ids make these few); inside a
      // file, the Parquet min/max of `tid_hi` per row group skips the rest.
      const inRange = (f: BlockFile): boolean => f.maxKey >= lo && f.minKey <= hi && this.mayHoldOne(f, chunk);
      const { rows, slots } = await this.read(async (c, snap) => {
        if (snap.files.length === 0) return { rows: [], slots: 0 };
        // The head's rows are taken now, before any await: a block leaves the head with its file.
        const head = this.set.head;
        const fromHead = snap.files.filter((f) => head.has(f.name)).flatMap((f) => chunk.flatMap((k) => head.traceRows(f.name, k, snap.slots)));
        const onDisk = snap.files.filter((f) => !head.has(f.name));
        const rows = fromHead.length === 0 ? [] : await this.visibleHeadRows(c, fromHead);
        if (onDisk.length > 0) {
          // The slot columns these files have (a head block may have more: they read as NULL here).
          const slots = onDisk.reduce((m, f) => Math.max(m, f.slots), 0);
          const raw = await this.lookupRows(c, onDisk, chunk, slots);
          const upto = this.tombstones > 0 ? await tombstonesUpto(c, chunk) : undefined;
          const at = lookupWidth(slots);
          // As `spanColumnsSql` gives them, then pdelta, filename, file_row_number, hidden.
          const read = raw.map((r) => {
            const lo = r[1] as bigint;
            const key = hex16(r[0] as bigint) + hex16(lo);
            const pid = r[4] as bigint | null;
            const row: unknown[] = [r[2] === true ? hex16(lo) : key, hex16(r[3] as bigint), pid === null ? null : hex16(pid)];
            for (let i = 5; i < at; i++) row.push(r[i]);
            row.push(r[at], r[at + 2], r[at + 3], upto !== undefined && Number(r[at + 1]) <= (upto.get(key) ?? -1));
            return row;
          });
          // Parent positions resolved here, from the rows read anyway (a join in SQL read the files twice).
          for (const row of resolveParents(read, at - 2, 1, 2)) {
            for (let s = slots; s < snap.slots; s++) row.push(null);
            rows.push(row);
          }
        }
        return { rows, slots: snap.slots };
        // Head blocks are read from memory: a deferred head's get no file for this (headInMemory).
      }, inRange, true);
      const keys = this.columns.keys.slice(0, slots);
      for (const row of rows) {
        const span = decodeSpanRow(row, keys);
        const key = keyOf(span.traceId);
        if (!want.has(key)) continue;
        let list = byKey.get(key);
        if (list === undefined) byKey.set(key, (list = []));
        list.push(span);
      }
    }
    return ids.map((id) => {
      const list = isValidTraceId(id, true) ? byKey.get(keyOf(id)) : undefined;
      return list === undefined ? [] : sortSpans(mergeRecords(list));
    });
  }

  /**
   * The raw rows (`lookupRowsSql`'s layout) of the traces `keys` (32 hex) in `files`: one
   * statement per file whose row groups may hold one of them, reading only the columns those row
   * groups need (lookup-plan.ts).
   */
  private async lookupRows(c: DuckDBConnection, files: readonly BlockFile[], keys: readonly string[], slots: number): Promise<unknown[][]> {
    const his = [...new Set(keys.map((k) => BigInt(`0x${k.slice(0, 16)}`)))];
    const where = tidHalvesIn('tid_hi', 'tid_lo', keys);
    const out: unknown[][] = [];
    for (const f of files) {
      const path = join(this.dir, f.name);
      const groups = groupsHolding(await this.footers.get(c, path), his);
      if (groups.length === 0) continue;
      for (const r of (await c.runAndReadAll(plannedLookupSql(path, groups, slots, where, this.tombstones > 0))).getRowsJS()) out.push(r);
    }
    return out;
  }

  /** The head rows no tombstone hides (a tombstone hides its trace's records written up to its block). */
  private async visibleHeadRows(c: DuckDBConnection, rows: readonly HeadRow[]): Promise<unknown[][]> {
    if (this.tombstones === 0) return rows.map((r) => r.row);
    const upto = await tombstonesUpto(c, [...new Set(rows.map((r) => keyOf(r.row[0] as string)))]);
    return rows.filter((r) => r.bseq > (upto.get(keyOf(r.row[0] as string)) ?? -1)).map((r) => r.row);
  }

  async findTraces(query: TraceQuery): Promise<TraceSummary[]> {
    this.assertOpen();
    const q = validateTraceQuery(query);
    const out = await this.read(async (c, snap) => {
      const slotOf = new Map([...this.columns.slotOf].filter(([, slot]) => slot < snap.slots));
      // Slices of start times, newest first (search-window.ts): once the slices read hold `limit`
      // traces, the older spans cannot change the answer. A search for recent traces reads the
      // recent row groups only; otherwise slices are added until that holds (or all is read).
      const groups: StartGroup[] = [];
      // Per file, its earliest and latest start by its row groups (undefined: unknown, always read).
      const spans = new Map<BlockFile, [number, number] | undefined>();
      if (q.attributeList.length === 0) {
        for (const f of snap.files) {
          const facts = await this.footers.get(c, join(this.dir, f.name));
          groups.push(...facts);
          const known = facts.every((g) => g.startMin !== undefined && g.startMax !== undefined);
          spans.set(f, known ? [Math.min(...facts.map((g) => g.startMin!)), Math.max(...facts.map((g) => g.startMax!))] : undefined);
        }
      }
      const first = Math.max(1, Math.floor(this.searchRows / 8));
      let rows: unknown[][] = [];
      let upto: number | undefined;
      let need = 0;
      // An attribute condition mostly matches few spans (an entity key): a window would most
      // often find too few and add a statement (~8 ms of planning and scan) for nothing.
      const cutoffs = q.attributeList.length > 0 ? [] : searchCutoffs(groups, first, q.startUs);
      for (const w of [...cutoffs, undefined]) {
        if (w !== undefined && w.rows < need) continue;
        const cut = w?.cut;
        // Files whose starts all fall outside the slice hold nothing of it (unknown: read).
        const before = upto;
        const part = snap.files.filter((f) => {
          const span = spans.get(f);
          return span === undefined || ((cut === undefined || span[1] >= cut) && (before === undefined || span[0] < before));
        });
        const slice = { ...q };
        if (cut !== undefined) slice.startUs = cut;
        // Start times are whole µs: the slice ends just before the previous one began.
        if (upto !== undefined) slice.endUs = q.endUs === undefined ? upto - 1 : Math.min(q.endUs, upto - 1);
        upto = cut;
        if (part.length === 0 || (slice.startUs !== undefined && slice.endUs !== undefined && slice.endUs < slice.startUs)) continue;
        const found = await this.searchHits(c, { ...snap, files: part, paths: part.map((f) => join(this.dir, f.name)), positioned: part.some((f) => f.format === 2) }, slice, slotOf);
        // Disjoint slices merge like disjoint files (mergeHits): a trace ranks in its newest span's slice as overall.
        rows = rows.length === 0 ? found : mergeHits([rows, found], q.limit);
        if (rows.length >= q.limit) break;
        if (w !== undefined) need = nextWindowRows(w.rows, rows.length, q.limit);
      }
      if (rows.length === 0) return [];
      return (await this.summariesOf(c, snap, rows.map((r) => keyOf(r[0] as string)))).map(summaryFromRow);
    });
    await countFindings(out, (s) => this.read(async (c) => (await c.runAndReadAll(s.sql, s.params)).getRowsJS()));
    return sortSummaries(out);
  }

  /**
   * The search's hits over the snapshot's files: rows of SUMMARY_ROW_SQL of which only the trace
   * id and, as start, the newest matching span's start are filled. The search yields the hits' ids
   * (and newest start) only; their summaries are then computed from their records, read like a
   * trace lookup (files by key range and trace index, row groups by the ids' min/max). Done in
   * one statement, DuckDB read every record of the store for them.
   */
  private async searchHits(c: DuckDBConnection, snap: Snapshot, q: ReturnType<typeof validateTraceQuery>, slotOf: ReadonlyMap<string, number>): Promise<unknown[][]> {
    // The searched keys some file's `rest` may hold: files are grouped by which of them their
    // `rest` may hold (manifest.ts `restKeys`), and each group tests `rest` for those only. A key
    // promoted early sits in the `rest` of the few files written before; the others skip that
    // test, which read every row's list (measured ~40 % of an attribute search).
    const keys = [...new Set(q.attributeList.map(([k]) => k))].filter((k) => this.hints.restMayHold(k));
    const groups = new Map<string, BlockFile[]>();
    for (const f of snap.files) {
      const sig = keys.map((k) => (restMayHold(f, k) ? '1' : '0')).join('');
      const list = groups.get(sig);
      if (list === undefined) groups.set(sig, [f]);
      else list.push(f);
    }
    const parts: unknown[][][] = [];
    for (const [sig, files] of groups) {
      const hints: SearchHints = { ...this.hints, restMayHold: (k) => (keys.includes(k) ? sig[keys.indexOf(k)] === '1' : this.hints.restMayHold(k)) };
      const part = { ...snap, files, paths: files.map((f) => join(this.dir, f.name)), positioned: files.some((f) => f.format === 2), slots: files.reduce((m, f) => Math.max(m, f.slots), 0) };
      // A slot none of these files has a column for is NULL in all their rows: its key is tested elsewhere only.
      const partSlots = new Map([...slotOf].filter(([, slot]) => slot < part.slots));
      parts.push(await this.searchHitsIn(c, part, q, partSlots, hints));
    }
    if (parts.length <= 1) return parts[0] ?? [];
    return mergeHits(parts, q.limit);
  }

  /**
   * `searchHits` over files that share the same `hints`: the newest `candidates` matching spans
   * first, more when they hold fewer than `limit` traces and are not all the matches.
   */
  private async searchHitsIn(c: DuckDBConnection, snap: Snapshot, q: ReturnType<typeof validateTraceQuery>, slotOf: ReadonlyMap<string, number>, hints: SearchHints): Promise<unknown[][]> {
    let candidates: number | undefined = Math.max(256, q.limit * 16);
    for (;;) {
      const s = traceSearchSql(q, slotOf, hints, candidates, () => `(SELECT tid, ${EMPTY_SUMMARY} FROM hits) AS trace_summaries`);
      const rows = await this.rowsOver(c, snap, s);
      if (candidates === undefined || rows.length === 0) return rows;
      if (rows.length >= q.limit || (rows[0]![8] as number) < candidates) return rows;
      candidates = candidates >= MAX_SEARCH_CANDIDATES ? undefined : candidates * 8;
    }
  }

  /**
   * Summary rows (SUMMARY_ROW_SQL) of the traces `keys` (32 hex) in the snapshot. A trace whose
   * files (by key range and trace index) all have trace summaries, that one of them only holds,
   * and that no tombstone names, takes its row from there; the others (split over files, or partly
   * deleted) are computed from their records. Compacted files have their summaries in a file
   * (block-copy.ts); a micro-block's are computed, for the whole block, the first time a search
   * needs them, and kept in memory while the block lives (one summary pass over a small file,
   * then none for every later search: the newest traces, those searched most, sit in micro-blocks).
   */
  private async summariesOf(c: DuckDBConnection, snap: Snapshot, keys: readonly string[]): Promise<unknown[][]> {
    const sorted = [...new Set(keys)].sort();
    const holders = new Map(sorted.map((k) => [k, snap.files.filter((f) => this.mayHoldOne(f, [k]))] as const));
    const missing = new Set(sorted.flatMap((k) => holders.get(k)!).filter((f) => f.traces !== true && f.level === 0 && !this.set.summaries.has(f.name)));
    for (const f of missing) {
      const rows = (await c.runAndReadAll(`SELECT ${SUMMARY_ROW_SQL}, ${TRACE_KEY_TEXT} FROM (${fileSummariesSql(join(this.dir, f.name), f.format === 2)})`)).getRowsJS();
      this.set.summaries.set(f.name, new Map(rows.map((r) => [r.pop() as string, r])));
    }
    const inMemory = (f: BlockFile): ReadonlyMap<string, unknown[]> | undefined => this.set.summaries.get(f.name);
    const named = this.tombstones > 0 ? await tombstonedKeys(c, sorted) : new Set<string>();
    const bySummary = sorted.filter((k) => !named.has(k) && holders.get(k)!.every((f) => f.traces === true || inMemory(f) !== undefined));
    const out: unknown[][] = [];
    const fromRecords = new Set(sorted.filter((k) => !bySummary.includes(k)));
    if (bySummary.length > 0) {
      const found = new Map<string, unknown[][]>();
      const add = (key: string, r: unknown[]): void => {
        const list = found.get(key);
        if (list === undefined) found.set(key, [r]);
        else list.push(r);
      };
      const files = [...new Set(bySummary.flatMap((k) => holders.get(k)!))];
      // Summary rows already read are kept (summary-cache.ts); the others are read for the keys wanted.
      const want = new Map<BlockFile, string[]>();
      for (const k of bySummary) {
        for (const f of holders.get(k)!) {
          if (f.traces !== true) continue;
          const known = this.summaryCache.get(f.name, k);
          if (known === undefined) want.set(f, [...(want.get(f) ?? []), k]);
          else if (known !== null) add(k, known);
        }
      }
      if (want.size > 0) {
        const byPath = new Map([...want.keys()].map((f) => [traceSummariesPath(join(this.dir, f.name)), f] as const));
        const keys = [...new Set([...want.values()].flat())];
        const rows = await c.runAndReadAll(
          `SELECT ${SUMMARY_ROW_SQL}, ${TRACE_KEY_TEXT}, filename FROM (SELECT ((tid_hi::UHUGEINT << 64) | tid_lo::UHUGEINT) AS tid, * EXCLUDE (tid_hi, tid_lo) ` +
            `FROM read_parquet([${[...byPath.keys()].map(quote).join(', ')}], filename = true) WHERE ${tidHalvesIn('tid_hi', 'tid_lo', keys)})`,
        );
        const got = new Map<string, unknown[]>();
        for (const r of rows.getRowsJS()) {
          const f = byPath.get(r.pop() as string);
          const key = r.pop() as string;
          if (f !== undefined) got.set(`${f.name}\n${key}`, r);
        }
        for (const [f, ks] of want) {
          for (const k of ks) {
            const row = got.get(`${f.name}\n${k}`) ?? null;
            this.summaryCache.set(f.name, k, row);
            if (row !== null) add(k, row);
          }
        }
      }
      for (const f of files) {
        const rows = f.traces === true ? undefined : inMemory(f);
        if (rows !== undefined) for (const k of bySummary) if (rows.has(k)) add(k, rows.get(k)!);
      }
      for (const k of bySummary) {
        const list = found.get(k);
        // In two files or more: their rows cannot be added up (a span's start and end records, a re-sent span).
        if (list?.length === 1) out.push(list[0]!);
        else if (list !== undefined) fromRecords.add(k);
      }
    }
    if (fromRecords.size > 0) out.push(...(await this.summariesFromRecords(c, snap, [...fromRecords].sort(), holders)));
    return out;
  }

  /** Summary rows of the traces `sorted` (32 hex) computed from their records in `holders`' files. */
  private async summariesFromRecords(c: DuckDBConnection, snap: Snapshot, sorted: readonly string[], holders: ReadonlyMap<string, readonly BlockFile[]>): Promise<unknown[][]> {
    const files = snap.files.filter((f) => sorted.some((k) => holders.get(k)!.includes(f)));
    if (files.length === 0) return [];
    const source = { paths: files.map((f) => join(this.dir, f.name)), positioned: files.some((f) => f.format === 2) };
    // The summary select reads pid only as `pid IS NOT NULL` (roots): no positions to resolve.
    const options: RelationOptions = { tombstones: this.tombstones > 0, parentPresence: true, where: (r) => tidHalvesIn(`${r}.tid_hi`, `${r}.tid_lo`, sorted) };
    const records = `(SELECT * FROM (${spansRelationSql(source, options)}) WHERE tid IN (${sorted.map((k) => tidFromHex(`'${k}'`)).join(', ')}))`;
    return (await c.runAndReadAll(`SELECT ${SUMMARY_ROW_SQL} FROM (${summarySelect(undefined, records)})`)).getRowsJS();
  }

  /** Whether file `f` may hold one of the traces `keys` (32 hex): by its key range, then its trace index. */
  private mayHoldOne(f: BlockFile, keys: readonly string[]): boolean {
    return keys.some((k) => k >= f.minKey && k <= f.maxKey && this.set.traces.mayHold(f.name, BigInt(`0x${k.slice(0, 16)}`)));
  }

  async services(): Promise<string[]> {
    const rows = await this.read((c, snap) => this.rowsOver(c, snap, `SELECT DISTINCT service FROM spans`));
    return rows.map((r) => unescapeText(r[0] as string)).sort();
  }

  async operations(service: string, kind?: SpanKind): Promise<Operation[]> {
    this.assertOpen();
    validateServiceName(service, kind);
    const sql =
      kind === undefined
        ? `SELECT DISTINCT name, kind FROM spans WHERE service = $1`
        : `SELECT DISTINCT name, kind FROM spans WHERE service = $1 AND kind = ${KIND_CODE[kind]}`;
    const rows = await this.read((c, snap) => this.rowsOver(c, snap, { sql, params: [escapeText(service)] }));
    const kinds: readonly SpanKind[] = ['internal', 'server', 'client', 'producer', 'consumer'];
    return rows
      .map((r) => ({ name: unescapeText(r[0] as string), kind: kinds[r[1] as number]! }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }

  async dependencies(startUs: number, endUs: number): Promise<DependencyLink[]> {
    this.assertOpen();
    validateTimeRange(startUs, endUs);
    const rows = await this.read((c, snap) => this.rowsOver(c, snap, { sql: DEPENDENCIES_SQL, params: [startUs, endUs] }));
    return rows.map((r) => ({
      parent: unescapeText(r[0] as string),
      child: unescapeText(r[1] as string),
      callCount: r[2] as number,
      errorCount: r[3] as number,
    }));
  }

  async serviceMapRows(startUs: number, endUs: number): Promise<ServiceMapRow[]> {
    this.assertOpen();
    validateTimeRange(startUs, endUs);
    const rows = await this.read((c, snap) => {
      const slotOf = new Map([...this.columns.slotOf].filter(([, slot]) => slot < snap.slots));
      const s = serviceMapSql(slotOf, this.hints);
      s.params[0] = startUs;
      s.params[1] = endUs;
      return this.rowsOver(c, snap, s);
    });
    return rows
      .map((r) => ({
        from: unescapeText(r[0] as string),
        to: unescapeText(r[1] as string),
        callCount: r[2] as number,
        errorCount: r[3] as number,
        p99Us: r[4] as number,
        ...(r[5] === true ? { inferred: true as const } : {}),
      }))
      .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : Number(a.inferred ?? false) - Number(b.inferred ?? false)));
  }

  writeFindings(findings: readonly Finding[]): Promise<void> {
    try {
      this.assertOpen();
      validateFindings(findings);
    } catch (err) {
      return Promise.reject(err);
    }
    if (findings.length === 0) return Promise.resolve();
    return this.dbExclusive(async () => {
      this.findingSeq = await appendFindings(this.writer, findings, this.findingSeq + 1);
    });
  }

  replaceFindings(traceIds: readonly string[], findings: readonly Finding[]): Promise<void> {
    let ids: string[];
    try {
      this.assertOpen();
      validateFindings(findings);
      ids = replacedTraceIds(traceIds, findings);
    } catch (err) {
      return Promise.reject(err);
    }
    if (ids.length === 0) return Promise.resolve();
    return this.dbExclusive(async () => {
      await this.writer.run(`DELETE FROM findings WHERE trace_id IN (SELECT unnest(string_split($1, ',')))`, [ids.join(',')]);
      if (findings.length > 0) this.findingSeq = await appendFindings(this.writer, findings, this.findingSeq + 1);
    });
  }

  async findFindings(filter?: FindingFilter): Promise<Finding[]> {
    this.assertOpen();
    const { sql, params } = findingsSql(validateFindingFilter(filter));
    const rows = await this.read(async (c) => (await c.runAndReadAll(sql, params)).getRowsJS());
    return rows.map(findingFromRow);
  }

  recordSdkDrops(reports: readonly SdkDropReport[]): Promise<void> {
    try {
      this.assertOpen();
      validateSdkDropReports(reports);
    } catch (err) {
      return Promise.reject(err);
    }
    if (reports.length === 0) return Promise.resolve();
    return this.dbExclusive(() => upsertSdkDrops(this.writer, reports));
  }

  async sdkDrops(): Promise<SdkDropReport[]> {
    const rows = await this.read(async (c) => (await c.runAndReadAll(SDK_DROPS_SQL)).getRowsJS());
    return rows.map(sdkDropFromRow);
  }

  /** Deletes the findings of traces with no visible record left in `files` (retention: findings follow their trace). */
  private async deleteOrphanFindings(files: readonly BlockFile[]): Promise<number> {
    const snap = this.set.acquire((f) => files.includes(f));
    try {
      const tids = `SELECT DISTINCT tid FROM spans`;
      const sql = overBlocks(`DELETE FROM findings WHERE ${tidFromHex(`lpad(trace_id, 32, '0')`)} NOT IN (${tids})`, this.relation(snap, false));
      return (await this.writer.run(sql)).rowsChanged;
    } finally {
      snap.release();
    }
  }

  deleteBefore(us: number): Promise<RetentionResult> {
    try {
      this.assertOpen();
      validateTimeRange(us, us);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.exclusive(() =>
      this.dbExclusive(async () => {
        const live = this.set.files;
        const touched = live.filter((f) => f.minArrived < us);
        if (touched.length === 0) {
          const findings = await this.deleteOrphanFindings(live);
          return { spans: 0, findings, sdkDropReports: await deleteSdkDropsBefore(this.writer, us) };
        }
        const snap = this.set.acquire((f) => touched.includes(f));
        let spans: number;
        const next: BlockFile[] = live.filter((f) => !touched.includes(f));
        try {
          spans = (await this.rowsOver(this.writer, snap, { sql: `SELECT count(*)::DOUBLE FROM spans WHERE arrived_us < $1`, params: [us] }))[0]![0] as number;
          const tombApplied = await lastTombstone(this.writer);
          for (const f of touched) {
            if (f.maxArrived < us) continue;
            // Straddles the cutoff: the part to keep, rewritten.
            const name = `r-${this.state.nextSeq++}.parquet`;
            const kept = await copyBlocks(this.writer, [f], [join(this.dir, f.name)], join(this.dir, name), name, {
              where: `r.arrived_us >= ${Math.floor(us)}`,
              tombstones: this.tombstones > 0,
              tombApplied,
            });
            if (kept !== undefined) {
              this.set.traces.set(kept.name, await readTraceIndex(this.writer, join(this.dir, kept.name)));
              next.push(kept);
            }
          }
        } finally {
          snap.release();
        }
        await this.saveFiles(next);
        this.set.swap(next);
        await this.dropSpentTombstones(next);
        const findings = await this.deleteOrphanFindings(next);
        return { spans, findings, sdkDropReports: await deleteSdkDropsBefore(this.writer, us) };
      }),
    );
  }

  /** Tail sampling: removes every span record of these traces and their findings; unknown ids are ignored. */
  deleteTraces(traceIds: readonly string[]): Promise<DeletedRecords> {
    try {
      this.assertOpen();
      if (!Array.isArray(traceIds)) throw new StorageInputError('invalid_query', 'traceIds', 'traceIds must be an array');
    } catch (err) {
      return Promise.reject(err);
    }
    const keys = [...new Set(traceIds.filter((id) => isValidTraceId(id, true)).map(keyOf))];
    if (keys.length === 0) return Promise.resolve({ spans: 0, findings: 0 });
    return this.exclusive(() =>
      this.dbExclusive(async () => {
        const snap = this.set.acquire();
        // Only traces with records get a tombstone (unknown ids cost nothing later).
        let found: [string, number][] = [];
        try {
          const list = keys.map((k) => `${tidFromHex(`'${k}'`)}`).join(', ');
          if (snap.files.length > 0) {
            const rows = await this.rowsOver(this.writer, snap, `SELECT ${TRACE_KEY_TEXT}, count(*)::DOUBLE FROM spans WHERE tid IN (${list}) GROUP BY ALL`);
            found = rows.map((r) => [r[0] as string, r[1] as number]);
          }
        } finally {
          snap.release();
        }
        const spans = found.reduce((n, [, c]) => n + c, 0);
        const upto = this.set.files.reduce((m, f) => Math.max(m, f.maxBseq), 0);
        const findings = await this.transaction(async () => {
          if (found.length > 0) await addTombstones(this.writer, found.map(([k]) => k), upto);
          const spellings = keys.flatMap((k) => (k.startsWith(ZERO16) ? [k, k.slice(16)] : [k]));
          return (await this.writer.run(`DELETE FROM findings WHERE trace_id IN (SELECT unnest(string_split($1, ',')))`, [spellings.join(',')])).rowsChanged;
        });
        if (found.length > 0) this.tombstones = (await this.writer.runAndReadAll(`SELECT count(*)::DOUBLE FROM tombstones`)).getRowsJS()[0]![0] as number;
        return { spans, findings };
      }),
    );
  }

  /** A swapped-out file is read no more: the tombstones kept for it alone can go now. */
  private dropTombstonesLater(): void {
    if (this.tombstones === 0 || this.closed) return;
    void this.exclusive(() => this.dbExclusive(async () => {
      if (!this.closed) await this.dropSpentTombstones(this.set.files);
    })).catch(() => undefined);
  }

  private maybeCompact(): void {
    const micro = this.set.files.filter((f) => f.level === 0 && this.deferred?.has(f.name) !== true);
    const rows = micro.reduce((n, f) => n + f.rows, 0);
    if (micro.length < 2 || (micro.length < this.compactFiles && rows < this.compactRows)) return;
    if (this.compacting !== undefined) {
      this.compactAgain = true;
      return;
    }
    this.compacting = this.compactOnce()
      .catch((err: unknown) => {
        process.stderr.write(`block store: compaction failed (micro-blocks kept, retried later): ${String(err)}\n`);
      })
      .finally(() => {
        this.compacting = undefined;
        if (this.compactAgain && !this.closed) {
          this.compactAgain = false;
          void this.exclusive(() => Promise.resolve(this.maybeCompact()));
        }
      });
  }

  /**
   * Merges every micro-block, and every compacted file that still holds records a tombstone hides,
   * into one file sorted by trace id (DuckDB COPY, off the JS thread), then swaps it in. Writes go on
   * meanwhile; the micro-blocks they make wait for the next round. Background compaction does the
   * same for micro-blocks only, once enough of them wait.
   */
  compact(): Promise<void> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    const run = async (): Promise<void> => {
      if (this.deferred !== undefined) await this.flush();
      while (this.compacting !== undefined) await this.compacting;
      this.compacting = this.compactOnce(true).finally(() => (this.compacting = undefined));
      await this.compacting;
    };
    return run();
  }

  /** The live block files (a copy of the manifest's list). */
  blockFiles(): BlockFile[] {
    return this.set.files.map((f) => ({ ...f }));
  }

  /** Tombstones not yet applied to every file that may hold records they hide. */
  get pendingTombstones(): number {
    return this.tombstones;
  }

  private async compactOnce(full = false): Promise<void> {
    const tombApplied = await this.dbExclusive(() => lastTombstone(this.writer));
    const hides = (f: BlockFile): boolean => this.tombstones > 0 && f.tombApplied < tombApplied;
    // A deferred head's blocks are the head write's (writeHead), never compaction's.
    const snap = this.set.acquire((f) => this.deferred?.has(f.name) !== true && (f.level === 0 || (full && hides(f))));
    try {
      if (snap.files.length === 0 || (!full && snap.files.length < 2 && !snap.files.some(hides))) return;
      const name = `c-${this.state.nextSeq++}.parquet`;
      const output = join(this.dir, name);
      // Taken now, before any await: a block may leave the head meanwhile (its columns stay valid).
      const heads = this.jsCompaction ? headColumns(this.set.head, snap.files, hides) : undefined;
      let merged: BlockFile | undefined;
      if (heads !== undefined) {
        const done = await compactHeadBlocks(this.compactor, snap.files, heads, output, name, tombApplied);
        if (done !== undefined) this.set.traces.set(name, done.traceHis);
        merged = done?.file;
      } else {
        merged = await copyBlocks(this.compactor, snap.files, snap.paths, output, name, { tombstones: this.tombstones > 0, tombApplied });
        if (merged !== undefined) this.set.traces.set(merged.name, await readTraceIndex(this.compactor, output));
      }
      await this.exclusive(async () => {
        const live = this.set.files;
        const inputs = new Set(snap.files);
        // Retention may have replaced an input meanwhile: then this output is stale, dropped.
        if (!snap.files.every((f) => live.includes(f))) {
          if (merged !== undefined) for (const p of [output, traceSummariesPath(output)]) unlinkSync(p);
          return;
        }
        const next = live.filter((f) => !inputs.has(f));
        if (merged !== undefined) next.push(merged);
        await this.saveFiles(next);
        this.set.swap(next);
        // The inputs are read no more here; other readers may still hold them.
        snap.release();
        await this.dbExclusive(() => this.dropSpentTombstones(next));
      });
    } finally {
      snap.release();
    }
  }

  async stats(): Promise<StoreStats> {
    const records = await this.read(async (c, snap) => (await this.rowsOver(c, snap, `SELECT count(*)::DOUBLE FROM spans`))[0]![0] as number);
    const findings = await this.read(async (c) => (await c.runAndReadAll(`SELECT count(*)::DOUBLE FROM findings`)).getRowsJS()[0]![0] as number);
    let diskBytes = this.set.files.reduce((n, f) => n + f.bytes, 0);
    for (const f of [this.dbFile, `${this.dbFile}.wal`, join(this.dir, MANIFEST_FILE)]) {
      try {
        diskBytes += statSync(f).size;
      } catch {
        // No WAL right after a checkpoint.
      }
    }
    return { spanRecords: records, findings, diskBytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.blocks.close();
    if (this.ageTimer !== undefined) clearInterval(this.ageTimer);
    // Deferred: the head is written out (if that fails, its spans are lost here: the caller's log has them).
    if (this.deferred !== undefined) await this.writeHeadNow();
    this.closed = true;
    while (this.compacting !== undefined) await this.compacting;
    await this.chain;
    await this.dbChain;
    await Promise.allSettled([...this.inflight]);
    await this.set.settle();
    for (const c of this.readers) c.closeSync();
    this.flusher?.closeSync();
    this.compactor.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
    OPEN_DIRS.delete(this.dataDir);
  }
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Test on the two halves of the trace id (columns `hi`, `lo`) keeping the traces `keys` (32 hex),
 * and a few others (any pair of a wanted high and a wanted low half): plain IN lists, which reach
 * the Parquet scan's min/max pruning. Callers drop the others by their key.
 */
function tidHalvesIn(hi: string, lo: string, keys: readonly string[]): string {
  const his = [...new Set(keys.map((k) => `${BigInt(`0x${k.slice(0, 16)}`)}::UBIGINT`))];
  const los = [...new Set(keys.map((k) => `${BigInt(`0x${k.slice(16)}`)}::UBIGINT`))];
  return `${hi} IN (${his.join(', ')}) AND ${lo} IN (${los.join(', ')})`;
}

/** Traces `keys` (32 hex, and maybe a few others) → the last micro-block whose records of it a tombstone hides. */
async function tombstonesUpto(c: DuckDBConnection, keys: readonly string[]): Promise<Map<string, number>> {
  const found = await c.runAndReadAll(`SELECT printf('%016x%016x', hi, lo), max(upto)::DOUBLE FROM tombstones WHERE ${tidHalvesIn('hi', 'lo', keys)} GROUP BY ALL`);
  return new Map(found.getRowsJS().map((r) => [r[0] as string, r[1] as number]));
}

/** Which of the traces `keys` (32 hex) a tombstone names. */
async function tombstonedKeys(c: DuckDBConnection, keys: readonly string[]): Promise<Set<string>> {
  const rows = await c.runAndReadAll(`SELECT DISTINCT printf('%016x%016x', hi, lo) FROM tombstones WHERE ${tidHalvesIn('hi', 'lo', keys)}`);
  const wanted = new Set(keys);
  return new Set(rows.getRowsJS().map((r) => r[0] as string).filter((k) => wanted.has(k)));
}

/**
 * The hits of one search over disjoint groups of files (`searchHits`' rows: trace id, newest
 * matching start, …): each group's are its `limit` traces whose newest matching span is the newest,
 * so a trace of the overall `limit` is among its group's (the traces ranked above it there rank
 * above it overall too); the newest start of a trace in two groups is the later of the two.
 */
export function mergeHits(parts: readonly (readonly unknown[][])[], limit: number): unknown[][] {
  const best = new Map<string, unknown[]>();
  for (const rows of parts) {
    for (const r of rows) {
      const key = keyOf(r[0] as string);
      const had = best.get(key);
      if (had === undefined || (had[1] as number) < (r[1] as number)) best.set(key, r);
    }
  }
  // As the search SQL orders its hits: newest first, then by trace id, larger first.
  const keyed = [...best].sort(([ka, a], [kb, b]) => (b[1] as number) - (a[1] as number) || (ka < kb ? 1 : ka > kb ? -1 : 0));
  return keyed.slice(0, limit).map(([, r]) => r);
}

/** Whether a statement on `spans` reads parent ids (then positions are resolved, see block-relation.ts). */
function readsParents(sql: string): boolean {
  return /\bpid\b/.test(sql);
}

/**
 * The head columns of `files`, when the JS compaction can merge them: every one a micro-block of
 * format 2 in the head, none holding records a tombstone hides (`hides`). Otherwise undefined
 * (DuckDB compacts them, applying tombstones and reading the files).
 */
function headColumns(head: Head, files: readonly BlockFile[], hides: (f: BlockFile) => boolean): HeadBlock[] | undefined {
  const out: HeadBlock[] = [];
  for (const f of files) {
    const block = f.level === 0 && f.format === 2 && !hides(f) ? head.block(f.name) : undefined;
    if (block === undefined) return undefined;
    out.push(block);
  }
  return out;
}

/** Removes what a crash left in the blocks directory: files the manifest does not name. */
function removeLeftovers(dir: string, state: ManifestState): void {
  const live = new Set(state.files.map((f) => f.name));
  live.add(MANIFEST_FILE);
  for (const f of state.files) if (f.traces === true) live.add(`${f.name}${TRACE_SUMMARIES_SUFFIX}`);
  for (const name of readdirSync(dir)) if (!live.has(name)) unlinkSync(join(dir, name));
  // A name left over by a crash must not be reused with other contents while cached: numbers go on.
  for (const f of state.files) {
    const n = Number(/-(\d+)\.parquet$/.exec(f.name)?.[1] ?? 0);
    if (n >= state.nextSeq) state.nextSeq = n + 1;
  }
}

/** Opens (creating when needed) the block store under `options.dataDir`. */
export function openBlockStore(options: BlockStoreOptions): Promise<BlockStore> {
  return BlockStore.open(options);
}
