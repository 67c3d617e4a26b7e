/**
 * The relations the embedded store's query SQL reads (`spans`, `span_links`), over a set of block
 * files: common table expressions put in front of a statement, so every query names the exact
 * files it started with (a compaction swapping files meanwhile changes nothing for it).
 */
import { tidFromHex } from '../embedded/schema.js';
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
  `NULL::VARCHAR AS links, NULL::BIGINT AS arrived_us, NULL::BIGINT AS bseq LIMIT 0`;

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The raw rows of `paths` (block columns, `tid_hi`/`tid_lo` not yet combined). */
export function blockRowsSql(paths: readonly string[]): string {
  if (paths.length === 0) return EMPTY;
  return `SELECT * FROM read_parquet([${paths.map(quote).join(', ')}], union_by_name = true)`;
}

export interface RelationOptions {
  /** Hide the records tombstones cover (tombstones.ts); false when there are none. */
  tombstones: boolean;
  /** A filter on the raw block columns (e.g. `tid_hi = …`), pushed into the Parquet scan. */
  where?: string;
}

/** Test that keeps a raw block row `r` no tombstone covers. */
export const NOT_TOMBSTONED = `NOT EXISTS (SELECT 1 FROM tombstones tb WHERE tb.hi = r.tid_hi AND tb.lo = r.tid_lo AND tb.upto >= r.bseq)`;

/** `spans` over `paths`: the embedded table's columns (with `tid`), plus `links` and `bseq`. */
export function spansRelationSql(paths: readonly string[], options: RelationOptions): string {
  const where = [options.where, options.tombstones ? NOT_TOMBSTONED : undefined].filter((w) => w !== undefined);
  return `SELECT ${TID} AS tid, r.* EXCLUDE (tid_hi, tid_lo) FROM (${blockRowsSql(paths)}) r${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
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

