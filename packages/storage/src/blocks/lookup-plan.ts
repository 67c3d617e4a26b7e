/**
 * Trace lookups planned from the block files' Parquet footers (issue 12: reads stay fast). A
 * lookup's cost in DuckDB follows the number of columns it reads, not the rows (measured: ~1.5 ms
 * per statement, then ~0.4 ms of CPU per column chunk, whether its row group holds 2 048 rows or
 * 16 384). So per file, from the row-group statistics kept in memory:
 * - the row groups that may hold the wanted trace ids (their `tid_hi` min/max); a file none of
 *   them may hold is not read at all;
 * - among those row groups, the columns that are NULL on every row are not read (given as NULL),
 *   nor the text columns holding one value on every row (given as that value: the statistics of
 *   a compacted file give it exactly);
 * - `bseq` only when tombstones may hide records, `filename` never (one statement per file).
 * The rows come out exactly as `lookupRowsSql`'s, so the caller is unchanged.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { attributeColumn } from '../embedded/schema.js';
import { PromiseLru } from './promise-lru.js';

/** What a row group's footer says of one column. */
export interface ColumnFacts {
  /** Rows (or list entries) that are NULL; undefined when the footer does not say. */
  nulls: number | undefined;
  values: number;
  /** The one value of every row (min = max, both exact, no NULL), when the footer proves it. */
  constant?: string;
}

export interface RowGroupFacts {
  rows: number;
  /** Range of `tid_hi`; undefined when the footer has no usable statistics (always read). */
  hiMin: bigint | undefined;
  hiMax: bigint | undefined;
  /** Earliest and latest `start_us` of the group (search windows, search-window.ts); undefined when unknown. */
  startMin: number | undefined;
  startMax: number | undefined;
  columns: ReadonlyMap<string, ColumnFacts>;
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The footer facts of one file, read through DuckDB (its metadata cache makes this cheap). */
export async function readFooterFacts(c: DuckDBConnection, path: string): Promise<RowGroupFacts[]> {
  const rows = (
    await c.runAndReadAll(
      `SELECT row_group_id::DOUBLE, row_group_num_rows::DOUBLE, path_in_schema, stats_null_count::DOUBLE, num_values::DOUBLE, ` +
        `stats_min_value, stats_max_value, coalesce(min_is_exact AND max_is_exact, false) FROM parquet_metadata(${quote(path)}) ORDER BY 1`,
    )
  ).getRowsJS();
  const groups: { rows: number; columns: Map<string, ColumnFacts>; min?: string | null; max?: string | null; startMin?: string | null; startMax?: string | null }[] = [];
  for (const r of rows) {
    const g = (groups[r[0] as number] ??= { rows: r[1] as number, columns: new Map() });
    // A list's leaf (`rest, list, element`) stands for its top-level column.
    const name = (r[2] as string).split(', ')[0]!;
    const nulls = r[3] === null ? undefined : (r[3] as number);
    const min = r[5] as string | null;
    const max = r[6] as string | null;
    const facts: ColumnFacts = { nulls, values: r[4] as number };
    if (nulls === 0 && r[7] === true && min !== null && min === max) facts.constant = min;
    g.columns.set(name, facts);
    if (name === 'tid_hi') {
      g.min = min;
      g.max = max;
    }
    if (name === 'start_us') [g.startMin, g.startMax] = [min, max];
  }
  return groups.map((g) => {
    let hiMin: bigint | undefined;
    let hiMax: bigint | undefined;
    try {
      if (g.min != null && g.max != null) [hiMin, hiMax] = [BigInt(g.min), BigInt(g.max)];
    } catch {
      // Not a number: no pruning on this group.
    }
    // Statistics that contradict themselves (e.g. a signed order) prune nothing.
    if (hiMin !== undefined && hiMax !== undefined && hiMin > hiMax) hiMin = hiMax = undefined;
    const time = (v: string | null | undefined): number | undefined => (v == null || !Number.isFinite(Number(v)) ? undefined : Number(v));
    let [startMin, startMax] = [time(g.startMin), time(g.startMax)];
    if (startMin === undefined || startMax === undefined || startMin > startMax) startMin = startMax = undefined;
    return { rows: g.rows, hiMin, hiMax, startMin, startMax, columns: g.columns };
  });
}

/**
 * Footer facts per file (promise-lru.ts), a few KB each: enough entries for every file of a large
 * store.
 */
export class FooterCache {
  private readonly lru: PromiseLru<RowGroupFacts[]>;

  constructor(limit = 4096) {
    this.lru = new PromiseLru(limit);
  }

  get(c: DuckDBConnection, path: string): Promise<RowGroupFacts[]> {
    return this.lru.get(path, () => readFooterFacts(c, path));
  }
}

/** The row groups of a file that may hold a trace whose high half is one of `his`. */
export function groupsHolding(groups: readonly RowGroupFacts[], his: readonly bigint[]): RowGroupFacts[] {
  return groups.filter((g) => g.hiMin === undefined || g.hiMax === undefined || his.some((h) => h >= g.hiMin! && h <= g.hiMax!));
}

/** Text columns a constant may stand for (others are typed: read them or give NULL). */
const TEXT = new Set(['rpcid', 'service', 'instance', 'name', 'status_msg', 'kinds', 'resource', 'scope_name', 'scope_version', 'scope_attrs', 'extra']);

/**
 * The select expression of column `name` (as `expr`, e.g. a cast) over the row groups `groups`:
 * the column itself, or NULL / the constant when every one of them proves it.
 */
export function columnExpr(groups: readonly RowGroupFacts[], name: string, expr = name): string {
  const facts = groups.map((g) => g.columns.get(name));
  // A column the file lacks (an older format, a slot added later) reads as NULL.
  if (facts.every((f) => f === undefined)) return `NULL AS ${name}`;
  if (facts.every((f) => f !== undefined && f.nulls !== undefined && f.nulls === f.values)) return `NULL AS ${name}`;
  if (TEXT.has(name) || /^a\d+$/.test(name)) {
    const c = facts[0]?.constant;
    // Control characters are fine in a literal, NUL is not.
    if (c !== undefined && !c.includes('\0') && facts.every((f) => f?.constant === c)) return `${quote(c)} AS ${name}`;
  }
  return `${expr} AS ${name}`;
}

/**
 * A trace lookup's statement over one file (`lookupRowsSql`'s row layout): only the columns the
 * row groups `groups` need read, `where` on the raw columns. `tombstones`: read `bseq` (else NULL).
 */
export function plannedLookupSql(path: string, groups: readonly RowGroupFacts[], slots: number, where: string, tombstones: boolean): string {
  const cols = [
    'tid_hi',
    'tid_lo',
    columnExpr(groups, 't64'),
    'sid',
    columnExpr(groups, 'pid'),
    ...['rpcid', 'service', 'instance', 'name', 'kind'].map((n) => columnExpr(groups, n)),
    columnExpr(groups, 'start_us', 'start_us::DOUBLE'),
    columnExpr(groups, 'duration_us', 'duration_us::DOUBLE'),
    ...['status', 'status_msg', 'kinds', 'rest', 'resource', 'scope_name', 'scope_version', 'scope_attrs', 'extra'].map((n) => columnExpr(groups, n)),
    ...Array.from({ length: slots }, (_, s) => columnExpr(groups, attributeColumn(s))),
    columnExpr(groups, 'pdelta'),
    tombstones ? columnExpr(groups, 'bseq') : 'NULL AS bseq',
    `${quote(path)} AS filename`,
    'file_row_number',
  ];
  return `SELECT ${cols.join(', ')} FROM read_parquet(${quote(path)}, file_row_number = true) WHERE ${where}`;
}
