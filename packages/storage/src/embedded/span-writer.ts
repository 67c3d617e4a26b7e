/**
 * The embedded store's write side, on its own connection. Spans are encoded and staged as they
 * arrive; batches move into `spans` one at a time, and every call that arrived while one batch was
 * being written goes in the next (group commit), or earlier when `flushRows` spans wait, or at the
 * latest `flushIntervalMs` after the first one. Other writes (findings, retention) take turns on the
 * same connection through `exclusive`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Span } from '@linktrace/model';
import type { AttributeColumns } from './attribute-columns.js';
import { attributeColumn, insertLinksSql, insertSpansSql } from './schema.js';
import type { SpanRowEncoder } from './span-row-encoder.js';
import type { StageBuffer } from './stage-buffer.js';
import { refreshStagedTraces } from './trace-summaries.js';

function byTraceThenStart(a: Span, b: Span): number {
  return a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : a.startUs - b.startUs;
}

export class SpanWriter {
  private chain: Promise<unknown> = Promise.resolve();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** Attribute columns that exist in the table (the encoder may know more, not yet added). */
  private columnCount: number;
  private readonly slots = new Map<string, number>();
  /**
   * Set after a large batch from several callers: the writer is under sustained load, so the next
   * batch waits (up to `busyFlushIntervalMs`) for a full row group. One row group goes to the file
   * compressed, once; smaller batches go through DuckDB's WAL and are compressed again at checkpoint.
   */
  private busy = false;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly columns: AttributeColumns,
    private readonly encoder: SpanRowEncoder,
    private readonly stage: StageBuffer,
    private readonly flushRows: number,
    private readonly flushIntervalMs: number,
    private readonly busyFlushIntervalMs = 0,
    /** The store's clock, µs since the epoch: a batch's records are marked as arrived when it goes in. */
    private readonly nowUs: () => number = () => Date.now() * 1000,
    /** Keep `trace_summaries` up to date with each batch (false: the store runs without it, see trace-summaries.ts). */
    private readonly summaries = true,
  ) {
    this.columnCount = columns.keys.length;
    columns.keys.forEach((k, i) => this.slots.set(k, i));
  }

  /** Attribute columns readers may use: count, and slot by key. */
  get tableColumns(): number {
    return this.columnCount;
  }

  get tableSlots(): ReadonlyMap<string, number> {
    return this.slots;
  }

  /** Runs `fn` on the write connection after every earlier write. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Stages validated spans; resolves when their batch is committed. `arrivedUs` (validated): when
   * they arrived, else the clock when their batch goes in.
   */
  write(spans: readonly Span[], arrivedUs?: number): Promise<void> {
    let rows: string[];
    try {
      // A trace's spans side by side, in start order: the trace id column then run-length encodes
      // (OTLP requests group spans by resource, which scatters a trace's spans) and parent ids and
      // start times compress better. Sorting here, per call, is far cheaper than in the insert.
      rows = [...spans].sort(byTraceThenStart).map((span) => this.encoder.encode(span));
    } catch (err) {
      return Promise.reject(err);
    }
    if (rows.length === 0) return Promise.resolve();
    const links = this.encoder.takeLinks();
    const starts = this.encoder.takeStarts();
    return new Promise<void>((resolve, reject) => {
      try {
        this.stage.append(rows, links, starts, { resolve, reject }, arrivedUs);
      } catch (err) {
        reject(err);
        return;
      }
      if (this.stage.pending >= this.flushRows) void this.flush();
      else this.armTimer();
    });
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.flushScheduled) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush();
      },
      this.busy ? Math.max(this.flushIntervalMs, this.busyFlushIntervalMs) : this.flushIntervalMs,
    );
  }

  /** Queues one batch now (at most one waits at a time); resolves when the waiting spans are committed. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushScheduled) return this.chain.then(() => undefined);
    this.flushScheduled = true;
    return this.exclusive(() => this.writeBatch());
  }

  private async writeBatch(): Promise<void> {
    this.flushScheduled = false;
    if (this.stage.pending === 0) return;
    const sealed = this.stage.seal();
    // A lone caller (one waiter: e.g. a replay awaiting each write) never makes the writer wait.
    this.busy = sealed.rows >= this.flushRows / 4 && sealed.waiters.length >= 2;
    try {
      await this.addAttributeColumns();
      const nowUs = Math.floor(this.nowUs());
      const arrivals = sealed.arrivals.map((run) => ({ end: run.end, arrivedUs: run.arrivedUs ?? nowUs }));
      await this.transaction(async () => {
        await this.conn.run(insertSpansSql(this.columnCount, sealed.table, sealed.starts, arrivals));
        if (sealed.links) await this.conn.run(insertLinksSql(sealed.table, arrivals));
      });
      // Its own transaction: a DELETE in the spans' transaction stops DuckDB from writing the
      // appended row groups straight to the file (they went through its WAL and were compressed
      // again at checkpoint: 126 instead of 77 bytes per span at 500 k spans).
      if (this.summaries) await this.transaction(() => refreshStagedTraces(this.conn, sealed.table));
      for (const w of sealed.waiters) w.resolve();
    } catch (err) {
      for (const w of sealed.waiters) w.reject(err);
    } finally {
      await this.stage.reset(this.conn, sealed.index);
      // Spans that arrived during this batch go in the next one.
      if (this.stage.pending >= this.flushRows) void this.flush();
      else if (this.stage.pending > 0) this.armTimer();
    }
  }

  /** Adds the columns of keys promoted since the last batch, with their mapping, in one transaction. */
  private async addAttributeColumns(): Promise<void> {
    const added = this.columns.takeNew();
    if (added.length === 0) return;
    await this.transaction(async () => {
      for (const slot of added) {
        await this.conn.run(`ALTER TABLE spans ADD COLUMN ${attributeColumn(slot)} VARCHAR`);
        await this.conn.run(`INSERT INTO attribute_columns VALUES ($1, $2)`, [slot, this.columns.keys[slot]!]);
      }
    });
    for (const slot of added) this.slots.set(this.columns.keys[slot]!, slot);
    this.columnCount = this.columns.keys.length;
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const result = await fn();
      await this.conn.run('COMMIT');
      return result;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Commits what waits, then lets go of the staging tables. The connection is the caller's. */
  async close(): Promise<void> {
    await this.flush();
    this.stage.close();
  }
}
