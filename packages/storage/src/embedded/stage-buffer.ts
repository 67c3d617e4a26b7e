/**
 * Where spans wait for their batch. Rows are appended as they arrive (one VARCHAR each, through a
 * DuckDB Appender on a connection of its own) into one of two tables of an in-memory database
 * attached to the store: no WAL, no JS memory held, and no long synchronous stall at flush time.
 * A flush seals the active table (appends switch to the other one), moves it into `spans` with one
 * set-wise INSERT, then drops and recreates it (an in-memory table never gives deleted rows back).
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';

export const STAGE_CATALOG = 'lt_stage';

export interface StagedWaiter {
  resolve(): void;
  reject(err: unknown): void;
}

export interface SealedStage {
  /** Qualified table name to read the sealed rows from. */
  table: string;
  index: number;
  rows: number;
  /** Whether some row carries an indexable link (the link index insert is skipped otherwise). */
  links: boolean;
  /** Whether some row is a start record (the in-batch merge of start and end records is skipped otherwise). */
  starts: boolean;
  waiters: StagedWaiter[];
  /**
   * When the rows arrived, as runs in append order: rows [previous run's end, `end`) arrived at
   * `arrivedUs` (undefined: the store's clock when the batch goes in). One run unless callers
   * passed different arrival times.
   */
  arrivals: ArrivalRun[];
}

export interface ArrivalRun {
  end: number;
  arrivedUs: number | undefined;
}

const tableName = (i: number): string => `${STAGE_CATALOG}.main.s${i}`;

export class StageBuffer {
  private active = 0;
  private readonly rows = [0, 0];
  private readonly links = [false, false];
  private readonly starts = [false, false];
  private readonly waiters: StagedWaiter[][] = [[], []];
  private readonly arrivals: ArrivalRun[][] = [[], []];

  private constructor(
    private readonly stager: DuckDBConnection,
    private readonly appenders: (DuckDBAppender | undefined)[],
  ) {}

  /** Attaches the in-memory stage database to the instance `writer` belongs to, with both tables. */
  static async create(writer: DuckDBConnection, stager: DuckDBConnection): Promise<StageBuffer> {
    // READ_WRITE: a store opened read-only would otherwise attach its stage read-only too (and fail).
    await writer.run(`ATTACH IF NOT EXISTS ':memory:' AS ${STAGE_CATALOG} (READ_WRITE)`);
    const appenders: DuckDBAppender[] = [];
    for (const i of [0, 1]) {
      await writer.run(`CREATE OR REPLACE TABLE ${tableName(i)} (r VARCHAR NOT NULL)`);
      appenders.push(await stager.createAppender(`s${i}`, 'main', STAGE_CATALOG));
    }
    return new StageBuffer(stager, appenders);
  }

  /** Rows waiting in the table that appends currently go to. */
  get pending(): number {
    return this.rows[this.active]!;
  }

  /**
   * Appends rows (all or, on a DuckDB error, throws) for one caller, who waits for their flush;
   * `arrivedUs` as in `ArrivalRun`.
   */
  append(rows: readonly string[], links: boolean, starts: boolean, waiter: StagedWaiter, arrivedUs?: number): void {
    const appender = this.appenders[this.active]!;
    for (const r of rows) {
      appender.appendVarchar(r);
      appender.endRow();
    }
    this.rows[this.active]! += rows.length;
    const runs = this.arrivals[this.active]!;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.arrivedUs === arrivedUs) last.end = this.rows[this.active]!;
    else runs.push({ end: this.rows[this.active]!, arrivedUs });
    if (links) this.links[this.active] = true;
    if (starts) this.starts[this.active] = true;
    this.waiters[this.active]!.push(waiter);
  }

  /** Makes the active table's rows visible to other connections and switches appends to the other table. */
  seal(): SealedStage {
    const i = this.active;
    this.appenders[i]!.flushSync();
    const sealed: SealedStage = { table: tableName(i), index: i, rows: this.rows[i]!, links: this.links[i]!, starts: this.starts[i]!, waiters: this.waiters[i]!, arrivals: this.arrivals[i]! };
    this.rows[i] = 0;
    this.links[i] = false;
    this.starts[i] = false;
    this.waiters[i] = [];
    this.arrivals[i] = [];
    this.active = 1 - i;
    return sealed;
  }

  /** Empties a sealed table for reuse; it must be done before the table becomes active again. */
  async reset(writer: DuckDBConnection, index: number): Promise<void> {
    this.appenders[index]?.closeSync();
    this.appenders[index] = undefined;
    await writer.run(`CREATE OR REPLACE TABLE ${tableName(index)} (r VARCHAR NOT NULL)`);
    this.appenders[index] = await this.stager.createAppender(`s${index}`, 'main', STAGE_CATALOG);
  }

  close(): void {
    for (const a of this.appenders) a?.closeSync();
    this.stager.closeSync();
  }
}
