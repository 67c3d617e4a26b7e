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
import { StoreClosedError } from '../storage-error.js';
import { summarizeTrace } from '../trace-summary.js';
import type { SummaryRecord } from '../trace-summary.js';
import type {
  DependencyLink,
  Finding,
  FindingFilter,
  Operation,
  RetentionResult,
  SpanStore,
  StoreStats,
  TraceQuery,
  TraceSummary,
} from '../types.js';
import {
  equivalentTraceIds,
  validateFindingFilter,
  validateFindings,
  validateServiceName,
  validateSpans,
  validateTimeRange,
  validateTraceQuery,
} from '../validate.js';
import { AttributeColumns } from './attribute-columns.js';
import { BagRegistry, KeyRegistry } from './bag-registry.js';
import type { AttributeColumnPolicy } from './attribute-columns.js';
import { DEPENDENCIES_SQL, traceSearchSql } from './query-sql.js';
import type { SearchHints } from './query-sql.js';
import {
  attributeColumn,
  CREATE_TABLES,
  REST_KEYS_SQL,
  SIDE_KEYS_SQL,
  DATABASE_FILE,
  insertLinksSql,
  insertSpansSql,
  SCHEMA_VERSION,
  spanColumnsSql,
  tidFromHex,
} from './schema.js';
import { decodeSpanRow } from './span-row-decoder.js';
import { KIND_CODE, SpanRowEncoder } from './span-row-encoder.js';
import { StageBuffer } from './stage-buffer.js';
import { escapeText, unescapeText } from './text-codec.js';

export interface EmbeddedStoreOptions {
  /** Directory holding the database file (`linktrace.duckdb`); created when missing. */
  dataDir: string;
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
  /** When attribute keys get a column of their own; see attribute-columns.ts. */
  attributeColumns?: AttributeColumnPolicy;
}

/**
 * Database files open in this process. DuckDB's file lock keeps other processes out, but a second
 * instance on the same file inside one process would not be stopped, and two writers corrupt it.
 */
const OPEN_FILES = new Set<string>();

/** Past this many candidate spans a search stops widening in rounds and reads every match. */
const MAX_SEARCH_CANDIDATES = 1_000_000;

/** Ids per query when fetching many traces (each becomes one pruned `tid IN (…)` term). */
const TRACE_IDS_PER_QUERY = 200;

export class EmbeddedStore implements SpanStore {
  private closed = false;
  private writerChain: Promise<unknown> = Promise.resolve();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly readerLoad: number[];
  private readonly inflight = new Set<Promise<unknown>>();
  /** Attribute columns that exist in the table (the encoder may already know more, not yet added). */
  private tableColumns: number;
  private readonly tableSlotOf = new Map<string, number>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly readers: DuckDBConnection[],
    private readonly columns: AttributeColumns,
    private readonly hints: SearchHints,
    private readonly encoder: SpanRowEncoder,
    private readonly stage: StageBuffer,
    private findingSeq: number,
    private readonly file: string,
    private readonly flushRows: number,
    private readonly flushIntervalMs: number,
  ) {
    this.readerLoad = readers.map(() => 0);
    this.tableColumns = columns.keys.length;
    columns.keys.forEach((k, i) => this.tableSlotOf.set(k, i));
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '') throw new TypeError('embedded store: dataDir must be a directory path');
    const readerCount = options.readers ?? 2;
    if (!Number.isInteger(readerCount) || readerCount < 1 || readerCount > 64) throw new RangeError('embedded store: readers must be an integer in 1..64');
    const flushRows = options.flushRows ?? 122_880;
    if (!Number.isInteger(flushRows) || flushRows < 1) throw new RangeError('embedded store: flushRows must be a positive integer');
    const flushIntervalMs = options.flushIntervalMs ?? 0;
    if (!Number.isFinite(flushIntervalMs) || flushIntervalMs < 0) throw new RangeError('embedded store: flushIntervalMs must be a non-negative number');
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
      for (const ddl of CREATE_TABLES) await writer.run(ddl);
      const version = (await writer.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema'`)).getRowsJS();
      if (version.length === 0) await writer.run(`INSERT INTO meta VALUES ('schema', '${SCHEMA_VERSION}')`);
      else if (version[0]![0] !== SCHEMA_VERSION) {
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
      const resources = new BagRegistry();
      const scopes = new BagRegistry();
      for (const [column, registry] of [['resource', resources], ['scope_attrs', scopes]] as const) {
        const rows = (await writer.runAndReadAll(`SELECT DISTINCT ${column} FROM spans WHERE ${column} IS NOT NULL`)).getRowsJS();
        for (const r of rows) registry.add(r[0] as string);
      }
      const restKeys = new KeyRegistry();
      const sideKeys = new KeyRegistry();
      for (const [sql, registry] of [[REST_KEYS_SQL, restKeys], [SIDE_KEYS_SQL, sideKeys]] as const) {
        for (const r of (await writer.runAndReadAll(sql)).getRowsJS()) registry.add(unescapeText(r[0] as string));
      }
      const hints: SearchHints = {
        resources: (n) => resources.matching(n),
        scopes: (n) => scopes.matching(n),
        restMayHold: (k) => restKeys.mayHold(k),
        sideMayHold: (k) => sideKeys.mayHold(k),
      };
      const encoder = new SpanRowEncoder(columns, resources, scopes, restKeys, sideKeys);
      return new EmbeddedStore(instance, writer, readers, columns, hints, encoder, stage, seq, file, flushRows, flushIntervalMs);
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

  /** Runs `fn` on the writer connection after every earlier write. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writerChain.then(fn, fn);
    this.writerChain = run.catch(() => undefined);
    return run;
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

  writeSpans(spans: readonly Span[]): Promise<void> {
    let rows: string[];
    try {
      this.assertOpen();
      validateSpans(spans);
      rows = spans.map((span) => this.encoder.encode(span));
    } catch (err) {
      return Promise.reject(err);
    }
    if (rows.length === 0) return Promise.resolve();
    const links = this.encoder.takeLinks();
    return new Promise<void>((resolve, reject) => {
      try {
        this.stage.append(rows, links, { resolve, reject });
      } catch (err) {
        reject(err);
        return;
      }
      if (this.stage.pending >= this.flushRows) void this.scheduleFlush();
      else this.armTimer();
    });
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.flushScheduled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.scheduleFlush();
    }, this.flushIntervalMs);
  }

  /** Queues one flush (at most one waits at a time); resolves when the writer has done it. */
  private scheduleFlush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushScheduled) return this.writerChain.then(() => undefined);
    this.flushScheduled = true;
    return this.exclusive(() => this.flushStage());
  }

  /** Moves the waiting spans into the table now; resolves when they are committed. */
  flush(): Promise<void> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.scheduleFlush();
  }

  private async flushStage(): Promise<void> {
    this.flushScheduled = false;
    if (this.stage.pending === 0) return;
    const sealed = this.stage.seal();
    try {
      await this.addAttributeColumns();
      await this.writer.run('BEGIN TRANSACTION');
      try {
        await this.writer.run(insertSpansSql(this.tableColumns, sealed.table));
        if (sealed.links) await this.writer.run(insertLinksSql(sealed.table));
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      for (const w of sealed.waiters) w.resolve();
    } catch (err) {
      for (const w of sealed.waiters) w.reject(err);
    } finally {
      await this.stage.reset(this.writer, sealed.index);
      // Spans that arrived during this flush go in the next batch.
      if (this.stage.pending >= this.flushRows) void this.scheduleFlush();
      else if (this.stage.pending > 0) this.armTimer();
    }
  }

  /** Adds the columns of keys promoted since the last batch, with their mapping, in one transaction. */
  private async addAttributeColumns(): Promise<void> {
    const slots = this.columns.takeNew();
    if (slots.length === 0) return;
    await this.writer.run('BEGIN TRANSACTION');
    try {
      for (const slot of slots) {
        await this.writer.run(`ALTER TABLE spans ADD COLUMN ${attributeColumn(slot)} VARCHAR`);
        await this.writer.run(`INSERT INTO attribute_columns VALUES ($1, $2)`, [slot, this.columns.keys[slot]!]);
      }
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const slot of slots) this.tableSlotOf.set(this.columns.keys[slot]!, slot);
    this.tableColumns = this.columns.keys.length;
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
    const columns = this.tableColumns;
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
    const slotOf = new Map(this.tableSlotOf);
    // Start with a few matching spans per wanted trace; widen (bounded: ×8 per round, then no cut)
    // only when they held too few traces and there were more.
    let candidates: number | undefined = Math.max(256, q.limit * 16);
    let rows: unknown[][];
    for (;;) {
      const { sql, params } = traceSearchSql(q, slotOf, this.hints, candidates);
      rows = await this.read(async (c) => (await c.runAndReadAll(sql, params)).getRowsJS());
      if (candidates === undefined || rows.length === 0) break;
      const found = new Set(rows.map((r) => r[1])).size;
      if (found >= q.limit || (rows[0]![10] as number) < candidates) break;
      candidates = candidates >= MAX_SEARCH_CANDIDATES ? undefined : candidates * 8;
    }
    const traces = new Map<string, { id: string; records: SummaryRecord[] }>();
    for (const r of rows) {
      const key = r[1] as string;
      let t = traces.get(key);
      if (t === undefined) traces.set(key, (t = { id: r[0] as string, records: [] }));
      const duration = r[8] as number | null;
      t.records.push({
        spanId: r[2] as string,
        hasParent: !(r[3] as boolean),
        kind: String(r[4]),
        service: unescapeText(r[5] as string),
        name: unescapeText(r[6] as string),
        startUs: r[7] as number,
        durationUs: duration ?? undefined,
        error: r[9] === 2,
      });
    }
    const out = [...traces.values()].map((t) => summarizeTrace(t.id, mergeRecords(t.records)));
    return out.sort((a, b) => b.startUs - a.startUs || (a.traceId < b.traceId ? 1 : a.traceId > b.traceId ? -1 : 0));
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

  writeFindings(findings: readonly Finding[]): Promise<void> {
    try {
      this.assertOpen();
      validateFindings(findings);
    } catch (err) {
      return Promise.reject(err);
    }
    if (findings.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      const appender = await this.writer.createAppender('findings');
      try {
        for (const f of findings) {
          appender.appendBigInt(BigInt(++this.findingSeq));
          appender.appendVarchar(f.traceId);
          appender.appendVarchar(f.rule);
          appender.appendVarchar(f.service);
          appender.appendVarchar(f.spanId);
          appender.appendVarchar(f.message);
          appender.appendBigInt(BigInt(Math.floor(f.timeUs)));
          for (const v of [f.entity?.type, f.entity?.key, f.entity?.version, f.target]) {
            if (v === undefined) appender.appendNull();
            else appender.appendVarchar(v);
          }
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    });
  }

  async findFindings(filter?: FindingFilter): Promise<Finding[]> {
    this.assertOpen();
    const f = validateFindingFilter(filter);
    const params: (string | number)[] = [];
    const p = (v: string | number): string => {
      params.push(v);
      return `$${params.length}`;
    };
    const where: string[] = [];
    if (f.traceId !== undefined) where.push(`trace_id IN (${equivalentTraceIds(f.traceId).map(p).join(', ')})`);
    if (f.rule !== undefined) where.push(`rule = ${p(f.rule)}`);
    if (f.service !== undefined) where.push(`service = ${p(f.service)}`);
    if (f.startUs !== undefined) where.push(`time_us >= ${p(f.startUs)}`);
    if (f.endUs !== undefined) where.push(`time_us <= ${p(f.endUs)}`);
    const sql =
      `SELECT trace_id, rule, service, span_id, message, time_us, entity_type, entity_key, entity_version, target, seq ` +
      `FROM findings QUALIFY row_number() OVER (PARTITION BY trace_id, rule, span_id ORDER BY seq DESC) = 1`;
    const filtered =
      `SELECT trace_id, rule, service, span_id, message, time_us::DOUBLE, entity_type, entity_key, entity_version, target ` +
      `FROM (${sql}) WHERE ${where.length ? where.join(' AND ') : 'true'} ORDER BY time_us DESC, seq DESC LIMIT ${f.limit}`;
    const rows = await this.read(async (c) => (await c.runAndReadAll(filtered, params)).getRowsJS());
    return rows.map((r) => {
      const finding: Finding = {
        traceId: r[0] as string,
        rule: r[1] as Finding['rule'],
        service: r[2] as string,
        spanId: r[3] as string,
        message: r[4] as string,
        timeUs: r[5] as number,
      };
      if (r[6] !== null) {
        finding.entity = { type: r[6] as string, key: r[7] as string };
        if (r[8] !== null) finding.entity.version = r[8] as string;
      }
      if (r[9] !== null) finding.target = r[9] as string;
      return finding;
    });
  }

  deleteBefore(us: number): Promise<RetentionResult> {
    try {
      this.assertOpen();
      validateTimeRange(us, us);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.exclusive(async () => {
      await this.writer.run('BEGIN TRANSACTION');
      let spans: number;
      let findings: number;
      try {
        spans = (await this.writer.run(`DELETE FROM spans WHERE start_us < $1`, [us])).rowsChanged;
        await this.writer.run(`DELETE FROM span_links WHERE start_us < $1`, [us]);
        findings = (await this.writer.run(`DELETE FROM findings WHERE time_us < $1`, [us])).rowsChanged;
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      // Fully emptied row groups are given back to the file at a checkpoint.
      if (spans > 0 || findings > 0) await this.writer.run('CHECKPOINT');
      return { spans, findings };
    });
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
    void this.scheduleFlush();
    return this.exclusive(async () => {
      await this.writer.run('CHECKPOINT');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.scheduleFlush();
    await Promise.allSettled([...this.inflight]);
    this.stage.close();
    for (const c of this.readers) c.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
    OPEN_FILES.delete(this.file);
  }
}

function sortSpans(spans: Span[]): Span[] {
  return spans.sort(
    (a, b) =>
      a.startUs - b.startUs ||
      (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0) ||
      KIND_CODE[b.kind] - KIND_CODE[a.kind],
  );
}

/** Opens (creating when needed) the embedded store under `options.dataDir`. */
export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}
