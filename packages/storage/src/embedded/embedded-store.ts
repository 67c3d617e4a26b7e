/**
 * The default backend (DESIGN §6): one DuckDB database file under a data directory, no external
 * service. Writes are group-committed: spans handed over while a batch is being inserted wait (in
 * a stage table, see stage-buffer.ts) and go in together as the next batch, so a busy server makes
 * few, large, well-sorted appends. Reads run on their own connections, concurrently with writes.
 */
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { isValidTraceId } from '@linktrace/model';
import type { Span, SpanKind } from '@linktrace/model';
import { mergeRecords } from '../record-merge.js';
import { StorageInputError, StoreClosedError } from '../storage-error.js';
import type {
  DependencyLink,
  Finding,
  FindingFilter,
  Operation,
  DeletedRecords,
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
  equivalentTraceIds,
  validateWriteOptions,
} from '../validate.js';
import { AttributeColumns } from './attribute-columns.js';
import type { AttributeColumnPolicy } from './attribute-columns.js';
import { DEPENDENCIES_SQL, traceSearchSql } from './query-sql.js';
import type { SearchHints } from './query-sql.js';
import { ensureArrivalColumns } from './arrival-columns.js';
import {
  ARRIVED_COLUMN,
  CREATE_TABLES,
  DATABASE_FILE,
  SCHEMA_VERSION,
  spanColumnsSql,
  tidFromHex,
} from './schema.js';
import { decodeSpanRow } from './span-row-decoder.js';
import { KIND_CODE, SpanRowEncoder } from './span-row-encoder.js';
import { StageBuffer } from './stage-buffer.js';
import { SpanWriter } from './span-writer.js';
import { appendFindings, deleteFindingsOfRemovedTraces, replacedTraceIds, findingFromRow, findingsSql, FINDINGS_MIGRATIONS } from './findings-table.js';
import { countFindings, sortSpans, sortSummaries, summaryFromRow, TRACE_IDS_PER_QUERY } from './read-results.js';
import { serviceMapSql } from './service-map-sql.js';
import { CREATE_SDK_DROPS, SDK_DROPS_SQL, deleteSdkDropsBefore, sdkDropFromRow, upsertSdkDrops } from './sdk-drops-table.js';
import { dropTraceSummaries, ensureTraceSummaries, noteDeletedTraces, noteRetainedTraces, refreshAfterRetention, summariesOfHits } from './trace-summaries.js';
import { loadWrittenSets } from './search-hints.js';
import { escapeText, unescapeText } from './text-codec.js';

export interface EmbeddedStoreOptions {
  /** Directory holding the database file (`linktrace.duckdb`); created when missing. */
  dataDir: string;
  /**
   * Open the file read-only (no schema changes, every write fails): for a server whose disk has no
   * room left, so that it still answers queries. The file must exist with this schema.
   */
  readOnly?: boolean;
  /** Read connections (queries run concurrently up to this many). Default 2. */
  readers?: number;
  /** DuckDB worker threads. Default: DuckDB's (the number of cores). */
  threads?: number;
  /** DuckDB memory limit, e.g. `'1GB'`. Default: DuckDB's (80% of RAM). */
  memoryLimit?: string;
  /**
   * WAL size at which DuckDB folds it into the file, e.g. `'128MB'` (the default). Small batches go
   * through the WAL; folding more of them at once compresses better and costs less per span, at
   * the price of memory and of a longer replay after a crash.
   */
  checkpointThreshold?: string;
  /**
   * A batch is moved into the table once this many spans wait. Default 122 880, one DuckDB row
   * group: DuckDB then writes it compressed straight to the file instead of through its WAL.
   */
  flushRows?: number;
  /**
   * …or at the latest this long (ms) after the first of them arrived. Default 0: a batch starts as
   * soon as the writer is free, so every call that arrived during the previous batch goes in the
   * next one (group commit: batches grow with load by themselves). A higher value gathers more
   * spans per batch from concurrent callers (fewer, better-compressed appends) at the price of
   * latency: `writeSpans` resolves only when its batch is committed. A caller that awaits each
   * write before making the next gains nothing from it.
   */
  flushIntervalMs?: number;
  /**
   * Under sustained load (the last batch held at least a quarter of `flushRows` spans from several
   * callers), a batch waits up to this long (ms) for `flushRows` spans instead of `flushIntervalMs`.
   * Default 500: a busy server writes whole row groups (compressed once, straight to the file)
   * while a quiet one, or a caller awaiting each write, still has its spans committed at once.
   */
  busyFlushIntervalMs?: number;
  /** When attribute keys get a column of their own; see attribute-columns.ts. */
  attributeColumns?: AttributeColumnPolicy;
  /**
   * Keep `trace_summaries` (default true). False: cheaper writes, searches compute their hits'
   * summaries from the records (slower per search); see `dropTraceSummaries`.
   */
  traceSummaries?: boolean;
  /**
   * The store's clock, ms since the epoch (default `Date.now`): a batch of spans is marked as arrived
   * at its time when it goes in, and retention (`deleteBefore`) counts from that. Tests move it.
   */
  clock?: () => number;
  /** Progress of long one-off work on open (building a table a newer version added). Default: stderr. */
  log?: (line: string) => void;
}

/**
 * Database files open in this process. DuckDB's file lock keeps other processes out, but a second
 * instance on the same file inside one process would not be stopped, and two writers corrupt it.
 */
const OPEN_FILES = new Set<string>();

/** Past this many candidate spans a search stops widening in rounds and reads every match. */
const MAX_SEARCH_CANDIDATES = 1_000_000;


export class EmbeddedStore implements SpanStore {
  private closed = false;
  private readonly readerLoad: number[];
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly spans: SpanWriter,
    private readonly readers: DuckDBConnection[],
    private readonly columns: AttributeColumns,
    private readonly hints: SearchHints,
    private findingSeq: number,
    private readonly file: string,
    /** `trace_summaries` is kept (EmbeddedStoreOptions.traceSummaries). */
    private readonly summaries: boolean,
  ) {
    this.readerLoad = readers.map(() => 0);
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '') throw new TypeError('embedded store: dataDir must be a directory path');
    const readerCount = options.readers ?? 2;
    if (!Number.isInteger(readerCount) || readerCount < 1 || readerCount > 64) throw new RangeError('embedded store: readers must be an integer in 1..64');
    const flushRows = options.flushRows ?? 122_880;
    if (!Number.isInteger(flushRows) || flushRows < 1) throw new RangeError('embedded store: flushRows must be a positive integer');
    const flushIntervalMs = options.flushIntervalMs ?? 0;
    if (!Number.isFinite(flushIntervalMs) || flushIntervalMs < 0) throw new RangeError('embedded store: flushIntervalMs must be a non-negative number');
    const busyFlushIntervalMs = options.busyFlushIntervalMs ?? 500;
    if (!Number.isFinite(busyFlushIntervalMs) || busyFlushIntervalMs < 0) throw new RangeError('embedded store: busyFlushIntervalMs must be a non-negative number');
    const summaries = options.traceSummaries !== false;
    const clock = options.clock ?? Date.now;
    const nowUs = (): number => Math.floor(clock() * 1000);
    mkdirSync(options.dataDir, { recursive: true });
    const file = join(realpathSync(options.dataDir), DATABASE_FILE);
    if (OPEN_FILES.has(file)) throw new Error(`embedded store: ${file} is already open in this process`);
    OPEN_FILES.add(file);
    // The newest storage format compresses text better (DICT_FSST); files are only read by this version.
    const config: Record<string, string> = {
      storage_compatibility_version: 'latest',
      checkpoint_threshold: options.checkpointThreshold ?? '128MB',
    };
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    const readOnly = options.readOnly === true;
    if (readOnly) config.access_mode = 'READ_ONLY';
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file, config);
    } catch (err) {
      OPEN_FILES.delete(file);
      throw err;
    }
    const opened: DuckDBConnection[] = [];
    try {
      const writer = await instance.connect();
      opened.push(writer);
      if (!readOnly) {
        for (const ddl of CREATE_TABLES) await writer.run(ddl);
        for (const ddl of FINDINGS_MIGRATIONS) await writer.run(ddl);
        await ensureArrivalColumns(writer, nowUs());
        await writer.run(CREATE_SDK_DROPS);
        if (options.traceSummaries === false) await dropTraceSummaries(writer);
        else await ensureTraceSummaries(writer, options.log ?? ((line) => process.stderr.write(`${line}\n`)));
      }
      const version = (await writer.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema'`)).getRowsJS();
      if (version.length === 0) {
        if (readOnly) throw new Error(`embedded store: ${file} holds no Linktrace schema and cannot be written (read-only)`);
        await writer.run(`INSERT INTO meta VALUES ('schema', '${SCHEMA_VERSION}')`);
      } else if (version[0]![0] !== SCHEMA_VERSION) {
        throw new Error(`embedded store: ${file} has schema ${String(version[0]![0])}, this version reads schema ${SCHEMA_VERSION}`);
      }
      const stager = await instance.connect();
      opened.push(stager);
      const stage = await StageBuffer.create(writer, stager);
      const keys = (await writer.runAndReadAll(`SELECT key FROM attribute_columns ORDER BY slot`)).getRowsJS().map((r) => r[0] as string);
      const seq = (await writer.runAndReadAll(`SELECT coalesce(max(seq), 0)::DOUBLE FROM findings`)).getRowsJS()[0]![0] as number;
      const readers: DuckDBConnection[] = [];
      for (let i = 0; i < readerCount; i++) {
        const c = await instance.connect();
        opened.push(c);
        readers.push(c);
      }
      const columns = new AttributeColumns(keys, options.attributeColumns);
      const written = await loadWrittenSets(writer);
      const spans = new SpanWriter(writer, columns, new SpanRowEncoder(columns, written), stage, flushRows, flushIntervalMs, busyFlushIntervalMs, nowUs, summaries);
      return new EmbeddedStore(instance, writer, spans, readers, columns, written.hints, seq, file, summaries);
    } catch (err) {
      for (const c of opened) c.closeSync();
      instance.closeSync();
      OPEN_FILES.delete(file);
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Runs `fn` on the least busy read connection. */
  private async read<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    let best = 0;
    for (let i = 1; i < this.readerLoad.length; i++) if (this.readerLoad[i]! < this.readerLoad[best]!) best = i;
    this.readerLoad[best]!++;
    const p = fn(this.readers[best]!);
    this.inflight.add(p);
    try {
      return await p;
    } finally {
      this.inflight.delete(p);
      this.readerLoad[best]!--;
    }
  }

  writeSpans(spans: readonly Span[], options?: WriteSpansOptions): Promise<void> {
    try {
      this.assertOpen();
      validateSpans(spans);
      validateWriteOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.spans.write(spans, options?.arrivedUs);
  }

  /** Moves the waiting spans into the table now; resolves when they are committed. */
  flush(): Promise<void> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.spans.flush();
  }

  async getTrace(traceId: string): Promise<Span[]> {
    return (await this.getTraces([traceId]))[0]!;
  }

  async getTraces(traceIds: readonly string[]): Promise<Span[][]> {
    this.assertOpen();
    const ids = Array.isArray(traceIds) ? traceIds : [];
    const keyOf = (id: string): string => (id.length === 16 ? `0000000000000000${id}` : id);
    const wanted = [...new Set(ids.filter((id) => isValidTraceId(id, true)).map(keyOf))];
    const byKey = new Map<string, Span[]>();
    const columns = this.spans.tableColumns;
    const keys = this.columns.keys.slice(0, columns);
    for (let i = 0; i < wanted.length; i += TRACE_IDS_PER_QUERY) {
      const chunk = wanted.slice(i, i + TRACE_IDS_PER_QUERY);
      const terms = chunk.map((_, j) => tidFromHex(`$${j + 1}`));
      const where = terms.length === 1 ? `tid = ${terms[0]}` : `tid IN (${terms.join(', ')})`;
      const rows = await this.read(async (c) =>
        (await c.runAndReadAll(`SELECT ${spanColumnsSql(columns)} FROM spans WHERE ${where}`, chunk)).getRowsJS(),
      );
      for (const row of rows) {
        const span = decodeSpanRow(row, keys);
        const key = keyOf(span.traceId);
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

  async findTraces(query: TraceQuery): Promise<TraceSummary[]> {
    this.assertOpen();
    const q = validateTraceQuery(query);
    const slotOf = new Map(this.spans.tableSlots);
    // Start with a few matching spans per wanted trace; widen (bounded: ×8 per round, then no cut)
    // only when they held too few traces and there were more.
    let candidates: number | undefined = Math.max(256, q.limit * 16);
    let rows: unknown[][];
    for (;;) {
      const { sql, params } = traceSearchSql(q, slotOf, this.hints, candidates, this.summaries ? undefined : summariesOfHits);
      rows = await this.read(async (c) => (await c.runAndReadAll(sql, params)).getRowsJS());
      if (candidates === undefined || rows.length === 0) break;
      // One row per found trace, each ending with the number of candidate spans.
      if (rows.length >= q.limit || (rows[0]![8] as number) < candidates) break;
      candidates = candidates >= MAX_SEARCH_CANDIDATES ? undefined : candidates * 8;
    }
    const out = rows.map(summaryFromRow);
    await countFindings(out, (s) => this.read(async (c) => (await c.runAndReadAll(s.sql, s.params)).getRowsJS()));
    return sortSummaries(out);
  }

  async services(): Promise<string[]> {
    const rows = await this.read(async (c) => (await c.runAndReadAll(`SELECT DISTINCT service FROM spans`)).getRowsJS());
    return rows.map((r) => unescapeText(r[0] as string)).sort();
  }

  async operations(service: string, kind?: SpanKind): Promise<Operation[]> {
    this.assertOpen();
    validateServiceName(service, kind);
    const sql =
      kind === undefined
        ? `SELECT DISTINCT name, kind FROM spans WHERE service = $1`
        : `SELECT DISTINCT name, kind FROM spans WHERE service = $1 AND kind = ${KIND_CODE[kind]}`;
    const rows = await this.read(async (c) => (await c.runAndReadAll(sql, [escapeText(service)])).getRowsJS());
    const kinds: readonly SpanKind[] = ['internal', 'server', 'client', 'producer', 'consumer'];
    return rows
      .map((r) => ({ name: unescapeText(r[0] as string), kind: kinds[r[1] as number]! }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }

  async dependencies(startUs: number, endUs: number): Promise<DependencyLink[]> {
    this.assertOpen();
    validateTimeRange(startUs, endUs);
    const rows = await this.read(async (c) => (await c.runAndReadAll(DEPENDENCIES_SQL, [startUs, endUs])).getRowsJS());
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
    const { sql, params } = serviceMapSql(new Map(this.spans.tableSlots), this.hints);
    params[0] = startUs;
    params[1] = endUs;
    const rows = await this.read(async (c) => (await c.runAndReadAll(sql, params)).getRowsJS());
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
    return this.spans.exclusive(async () => {
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
    return this.spans.exclusive(async () => {
      // One text parameter split in SQL: a parameter per id made a checker round's delete of 5 000
      // traces cost 56 ms instead of 9 (the ids are validated hex, so ',' cannot occur in them).
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
    return this.spans.exclusive(() => upsertSdkDrops(this.writer, reports));
  }

  async sdkDrops(): Promise<SdkDropReport[]> {
    const rows = await this.read(async (c) => (await c.runAndReadAll(SDK_DROPS_SQL)).getRowsJS());
    return rows.map(sdkDropFromRow);
  }

  deleteBefore(us: number): Promise<RetentionResult> {
    try {
      this.assertOpen();
      validateTimeRange(us, us);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.spans.exclusive(async () => {
      const result = await this.spans.transaction(async () => {
        if (this.summaries) await noteRetainedTraces(this.writer, us);
        const spans = (await this.writer.run(`DELETE FROM spans WHERE ${ARRIVED_COLUMN} < $1`, [us])).rowsChanged;
        if (this.summaries) await refreshAfterRetention(this.writer);
        await this.writer.run(`DELETE FROM span_links WHERE ${ARRIVED_COLUMN} < $1`, [us]);
        const findings = await deleteFindingsOfRemovedTraces(this.writer, this.summaries);
        const sdkDropReports = await deleteSdkDropsBefore(this.writer, us);
        return { spans, findings, sdkDropReports };
      });
      // Fully emptied row groups are given back to the file at a checkpoint.
      if (result.spans > 0 || result.findings > 0) await this.writer.run('CHECKPOINT');
      return result;
    });
  }

  deleteTraces(traceIds: readonly string[]): Promise<DeletedRecords> {
    try {
      this.assertOpen();
      if (!Array.isArray(traceIds)) throw new StorageInputError('invalid_query', 'traceIds', 'traceIds must be an array');
    } catch (err) {
      return Promise.reject(err);
    }
    // Malformed ids name no stored trace: ignored, as reads ignore them.
    const valid = traceIds.filter((id) => isValidTraceId(id, true));
    const keys = [...new Set(valid.map((id) => (id.length === 16 ? `0000000000000000${id}` : id)))];
    if (keys.length === 0) return Promise.resolve({ spans: 0, findings: 0 });
    // Findings keep the id as it was written (16 or 32 hex).
    const findingIds = [...new Set(valid.flatMap(equivalentTraceIds))];
    return this.spans.exclusive(() =>
      this.spans.transaction(async () => {
        let spans = 0;
        // In chunks of literal ids, as reads do: each `tid IN (…)` term is pruned by the row groups'
        // min/max, so a round's drops (recent, time-prefixed ids) touch only the newest row groups.
        for (let i = 0; i < keys.length; i += TRACE_IDS_PER_QUERY) {
          const chunk = keys.slice(i, i + TRACE_IDS_PER_QUERY);
          const where = `tid IN (${chunk.map((_, j) => tidFromHex(`$${j + 1}`)).join(', ')})`;
          spans += (await this.writer.run(`DELETE FROM spans WHERE ${where}`, chunk)).rowsChanged;
          await this.writer.run(`DELETE FROM span_links WHERE ${where}`, chunk);
        }
        if (this.summaries) {
          await noteDeletedTraces(this.writer, keys);
          await refreshAfterRetention(this.writer);
        }
        const findings = (await this.writer.run(`DELETE FROM findings WHERE trace_id IN (SELECT unnest(string_split($1, ',')))`, [findingIds.join(',')])).rowsChanged;
        return { spans, findings };
      }),
    );
  }

  async stats(): Promise<StoreStats> {
    const row = await this.read(
      async (c) => (await c.runAndReadAll(`SELECT (SELECT count(*) FROM spans)::DOUBLE, (SELECT count(*) FROM findings)::DOUBLE`)).getRowsJS()[0]!,
    );
    let diskBytes = 0;
    for (const f of [this.file, `${this.file}.wal`]) {
      try {
        diskBytes += statSync(f).size;
      } catch {
        // No WAL right after a checkpoint.
      }
    }
    return { spanRecords: row[0] as number, findings: row[1] as number, diskBytes };
  }

  /** Flushes waiting spans, then writes everything to the main file (compressed) and empties the WAL. */
  checkpoint(): Promise<void> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    void this.spans.flush();
    return this.spans.exclusive(async () => {
      await this.writer.run('CHECKPOINT');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.spans.close();
    await Promise.allSettled([...this.inflight]);
    for (const c of this.readers) c.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
    OPEN_FILES.delete(this.file);
  }
}

/** Opens (creating when needed) the embedded store under `options.dataDir`. */
export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}
