/**
 * The relations the embedded store's query SQL reads (`spans`, `span_links`), over a set of block
 * files: common table expressions put in front of a statement, so every query names the exact
 * files it started with (a compaction swapping files meanwhile changes nothing for it).
 */
import { attributeColumn, tidFromHex } from '../embedded/schema.js';
import { ENTRY, UNIT } from '../embedded/text-codec.js';

const chr = (c: string): string => `chr(${c.charCodeAt(0)})`;

/** The trace id of a block row as the UHUGEINT the query SQL compares. */
const TID = `((tid_hi::UHUGEINT << 64) | tid_lo::UHUGEINT)`;

/** The block columns (block-columns.ts) as typed NULLs: the relation of a store without files. */
const EMPTY =
  `SELECT NULL::UBIGINT AS tid_hi, NULL::UBIGINT AS tid_lo, NULL::BOOLEAN AS t64, NULL::UBIGINT AS sid, NULL::UBIGINT AS pid, ` +
  `NULL::VARCHAR AS rpcid, NULL::VARCHAR AS service, NULL::VARCHAR AS instance, NULL::VARCHAR AS name, NULL::UTINYINT AS kind, ` +
  `NULL::BIGINT AS start_us, NULL::BIGINT AS duration_us, NULL::UTINYINT AS status, NULL::VARCHAR AS status_msg, NULL::VARCHAR AS kinds, ` +
  `NULL::VARCHAR[] AS rest, NULL::VARCHAR AS resource, NULL::VARCHAR AS scope_name, NULL::VARCHAR AS scope_version, ` +
  `NULL::VARCHAR AS scope_attrs, NULL::VARCHAR AS remote_service, NULL::VARCHAR AS side, NULL::VARCHAR AS extra, ` +
  `NULL::VARCHAR AS links, NULL::BIGINT AS arrived_us, NULL::BIGINT AS bseq, NULL::INTEGER AS pdelta LIMIT 0`;

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Block files to read. `positioned`: one of them at least is of format 2 (parent as a position,
 * `pdelta`); files of format 1 (the parent id in `pid` on every row) have no such column, and a
 * set of them only reads it as NULL.
 */
export interface BlockSource {
  paths: readonly string[];
  positioned: boolean;
}

/**
 * The raw rows of the files (block columns, `tid_hi`/`tid_lo` not yet combined, `pid` only the
 * parent ids a position does not give, `pdelta`), with `filename` and `file_row_number` when
 * `rowNumbers` (what resolves a position).
 */
export function blockRowsSql(source: BlockSource, rowNumbers = false): string {
  if (source.paths.length === 0) return rowNumbers ? `SELECT *, NULL::VARCHAR AS filename, NULL::BIGINT AS file_row_number FROM (${EMPTY})` : EMPTY;
  const extra = rowNumbers ? ', filename = true, file_row_number = true' : '';
  const scan = `read_parquet([${source.paths.map(quote).join(', ')}], union_by_name = true${extra})`;
  return source.positioned ? `SELECT * FROM ${scan}` : `SELECT *, NULL::INTEGER AS pdelta FROM ${scan}`;
}

export interface RelationOptions {
  /** Hide the records tombstones cover (tombstones.ts); false when there are none. */
  tombstones: boolean;
  /** A filter on the raw block columns of the row alias it is given (e.g. `${r}.tid_hi = …`), pushed into the Parquet scan. */
  where?: (r: string) => string;
  /**
   * Give `pid` for every row (resolve the parent positions: a join of the rows with the rows of
   * their files). Without it `pid` holds only the parent ids stored as ids; statements that do not
   * read `pid` skip the join.
   */
  parents?: boolean;
  /**
   * Give `pid` only as present or not (a stand-in 0 for a parent stored as a position): enough for
   * statements that test `pid IS NOT NULL` alone (trace summaries: which span is a root), no join.
   */
  parentPresence?: boolean;
}

/** Test that keeps a raw block row `r` no tombstone covers. */
export const NOT_TOMBSTONED = `NOT EXISTS (SELECT 1 FROM tombstones tb WHERE tb.hi = r.tid_hi AND tb.lo = r.tid_lo AND tb.upto >= r.bseq)`;

/**
 * The raw rows `r` of the files with the parent id of every row as `pid` (positions resolved: the
 * parent row is in the same file and trace, `pdelta` rows before it), the other raw columns but
 * `pdelta` and the row numbers. `where` filters the rows (alias `r`) and, on the trace id, also the
 * rows their parents are looked up in (so a trace lookup reads a few row groups on both sides).
 */
export function resolvedRowsSql(source: BlockSource, where: string[], parentsWhere?: string): string {
  const p = `(SELECT filename, file_row_number, tid_hi, tid_lo, sid FROM (${blockRowsSql(source, true)}) p${parentsWhere === undefined ? '' : ` WHERE ${parentsWhere}`})`;
  return (
    `SELECT r.* EXCLUDE (pid, pdelta, filename, file_row_number), CASE WHEN r.pdelta IS NULL THEN r.pid ELSE p.sid END AS pid ` +
    `FROM (${blockRowsSql(source, true)}) r LEFT JOIN ${p} p ON p.filename = r.filename AND p.file_row_number = r.file_row_number - r.pdelta ` +
    `AND p.tid_hi = r.tid_hi AND p.tid_lo = r.tid_lo${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`
  );
}

/** `spans` over the files: the embedded table's columns (with `tid`), plus `links` and `bseq`. */
export function spansRelationSql(source: BlockSource, options: RelationOptions): string {
  const where = [options.where?.('r'), options.tombstones ? NOT_TOMBSTONED : undefined].filter((w) => w !== undefined);
  if (options.parents === true) {
    return `SELECT ${TID} AS tid, x.* EXCLUDE (tid_hi, tid_lo) FROM (${resolvedRowsSql(source, where, options.where?.('p'))}) x`;
  }
  const pid = options.parentPresence === true ? `, CASE WHEN r.pdelta IS NULL THEN r.pid ELSE 0::UBIGINT END AS pid` : '';
  const exclude = options.parentPresence === true ? 'tid_hi, tid_lo, pdelta, pid' : 'tid_hi, tid_lo, pdelta';
  return `SELECT ${TID} AS tid, r.* EXCLUDE (${exclude})${pid} FROM (${blockRowsSql(source)}) r${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/** `span_links` (as the embedded table) from the `links` text of `spans`. */
const SPAN_LINKS =
  `SELECT tid, sid, start_us, ${tidFromHex(`split_part(e, ${chr(UNIT)}, 1)`)} AS link_tid, ` +
  `('0x' || split_part(e, ${chr(UNIT)}, 2))::UBIGINT AS link_sid, arrived_us ` +
  `FROM (SELECT tid, sid, start_us, arrived_us, unnest(string_split(links, ${chr(ENTRY)})) AS e FROM spans WHERE links IS NOT NULL)`;

/**
 * `sql` (written against the embedded store's tables) with `spans` and, when it uses it,
 * `span_links` defined over the block files. Not materialized: each is inlined where it is used, so
 * filters reach the Parquet scan.
 */
export function overBlocks(sql: string, spans: string): string {
  const ctes = [`spans AS NOT MATERIALIZED (${spans})`];
  if (sql.includes('span_links')) ctes.push(`span_links AS NOT MATERIALIZED (${SPAN_LINKS})`);
  const body = sql.trimStart();
  if (/^WITH\s/i.test(body)) return `WITH ${ctes.join(', ')}, ${body.slice(4).trimStart()}`;
  return `WITH ${ctes.join(', ')} ${body}`;
}


/** The stored columns a trace lookup reads after the ids (`spanColumnsSql`'s order, schema.ts). */
const LOOKUP_COLUMNS = 'rpcid, service, instance, name, kind, start_us::DOUBLE, duration_us::DOUBLE, status, status_msg, kinds, rest, resource, scope_name, scope_version, scope_attrs, extra';

/**
 * A trace lookup's statement over `source`: per row `tid_hi`, `tid_lo`, `t64`, `sid`, `pid`, the
 * lookup columns, the attribute slots `a0…` up to `slots`, `pdelta`, `bseq`, `filename`,
 * `file_row_number`, for the rows passing `where` (on the raw columns). One flat `read_parquet`
 * (ids, tombstones and parent positions are the caller's, in JS): planning the `spans` relation's
 * expressions cost 2.2 ms of a ~9 ms lookup, a flat statement 1.0.
 */
export function lookupRowsSql(source: BlockSource, slots: number, where: string): string {
  const attrs = Array.from({ length: slots }, (_, s) => `, ${attributeColumn(s)}`).join('');
  return (
    `SELECT tid_hi, tid_lo, t64, sid, pid, ${LOOKUP_COLUMNS}${attrs}, ${source.positioned ? 'pdelta' : 'NULL::INTEGER AS pdelta'}, bseq, filename, file_row_number ` +
    `FROM read_parquet([${source.paths.map(quote).join(', ')}], union_by_name = true, filename = true, file_row_number = true) WHERE ${where}`
  );
}

/** Width of a `lookupRowsSql` row before `pdelta`. */
export function lookupWidth(slots: number): number {
  return 21 + slots;
}

/**
 * Rows of whole traces, each ending with `pdelta`, `filename`,
 * `file_row_number`, `hidden` after `width` leading columns of which `sid` (hex) is at `sidAt`
 * and `pid` (hex or NULL) at `pidAt`: the leading columns of the visible rows, `pid` filled in
 * from the parent row the position names (in the same file and trace, so among the rows read).
 */
export function resolveParents(rows: readonly unknown[][], width: number, sidAt: number, pidAt: number): unknown[][] {
  const sidOf = new Map<string, unknown>();
  for (const r of rows) sidOf.set(`${String(r[width + 2])}\n${String(r[width + 1])}`, r[sidAt]);
  const out: unknown[][] = [];
  for (const r of rows) {
    if (r[width + 3] === true) continue;
    const row = r.slice(0, width);
    const pdelta = r[width];
    if (pdelta !== null && pdelta !== undefined) {
      const at = `${String(BigInt(r[width + 2] as number | bigint) - BigInt(pdelta as number))}\n${String(r[width + 1])}`;
      const sid = sidOf.get(at);
      if (sid === undefined) throw new Error(`block store: ${String(r[width + 1])} row ${String(r[width + 2])}: parent position ${String(pdelta)} names no row of its trace`);
      row[pidAt] = sid;
    }
    out.push(row);
  }
  return out;
}
