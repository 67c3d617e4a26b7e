/**
 * `trace_summaries`: one row per stored trace with what a search hit shows (start, end, span and
 * error counts, services, root). A search finds its traces in `spans` and takes their summaries
 * from here, instead of reading every record of every hit back from `spans` (the records of 20
 * traces sit in 20+ row groups, and that join was most of a search's time).
 *
 * Rows are kept exact by recomputing, not by adding up: a trace's records arrive over several
 * batches, a start record and its end record must count once, a re-sent span must not count twice,
 * and retention removes only some of a trace's records. So each batch (and each retention delete)
 * recomputes the summaries of the traces it touched from all their records in `spans`, merged as
 * reads merge them (record-merge.ts). With time-prefixed trace ids the touched traces sit in the
 * newest row groups, and DuckDB's min/max of the join keys skips the others. Rows go in in trace id
 * order for the same reason on the read side: a search's hits are mostly recent traces, so their
 * ids span a narrow range, and only the summary row groups covering it are read (measured at 2 M
 * spans: an unsorted table doubled the summary lookup, ~15 ms instead of ~7 ms).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { UNKNOWN_SERVICE } from '@linktrace/model';
import { ARRIVED_COLUMN, tidFromHex, TRACE_ID_TEXT } from './schema.js';

export const TRACE_SUMMARIES_TABLE = `CREATE TABLE IF NOT EXISTS trace_summaries (
  tid UHUGEINT NOT NULL, t64 BOOLEAN, start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
  span_count INTEGER NOT NULL, error_count INTEGER NOT NULL, services VARCHAR[] NOT NULL,
  root_service VARCHAR, root_name VARCHAR)`;

/** The `meta` key set once `trace_summaries` holds every stored trace (files made before it get it built on open). */
const BUILT_KEY = 'trace_summaries';

/** Temp table (on the write connection) of the trace ids whose summaries are recomputed. */
const TOUCHED = 'touched_traces';

/**
 * Summary rows of the traces `source` names (a query yielding `tid`; all traces when undefined).
 * Records are merged per (trace, span id, kind, service, instance, start), a full record winning
 * over a start record, as record-merge.ts does; then summarised as trace-summary.ts does (the
 * trace starts at its earliest known start).
 */
export function summarySelect(source: string | undefined, recordsOf?: string): string {
  // `recordsOf`: the records of those traces, when a backend can select them better than a join on `spans`.
  const from = recordsOf ?? (source === undefined ? 'spans' : `spans JOIN (${source}) USING (tid)`);
  const full = 'duration_us IS NOT NULL';
  // Untimed records (start_us 0) with a timed record of the same span on the same instance merge
  // into it; the others count once per (span id, kind, service, instance) and start.
  const grouped =
    `SELECT tid, sid, kind, instance, bool_and(coalesce(t64, false)) AS t64, max_by(pid IS NOT NULL, ${full}) AS has_parent, ` +
    `start_us, max(duration_us) AS duration_us, max_by(status, ${full}) AS status, ` +
    `service, max_by(name, ${full}) AS name ` +
    `FROM ${from} GROUP BY tid, sid, kind, service, instance, start_us`;
  // (Without instance it matches any instance; without service and instance, any service.)
  const records =
    `SELECT * FROM (${grouped}) ` +
    `QUALIFY start_us <> 0 OR NOT CASE ` +
    `WHEN instance IS NULL AND service = '${UNKNOWN_SERVICE}' THEN bool_or(start_us <> 0) OVER (PARTITION BY tid, sid, kind) ` +
    `WHEN instance IS NULL THEN bool_or(start_us <> 0) OVER (PARTITION BY tid, sid, kind, service) ` +
    `ELSE bool_or(start_us <> 0) OVER (PARTITION BY tid, sid, kind, service, instance) END`;
  return (
    // Named as the columns of `trace_summaries`, so a backend without the table can use this as it.
    `SELECT tid, bool_and(t64) AS t64, coalesce(min(start_us) FILTER (WHERE start_us <> 0), 0) AS start_us, ` +
    `coalesce(max(start_us + coalesce(duration_us, 0)) FILTER (WHERE start_us <> 0), 0) AS end_us, count(*)::INTEGER AS span_count, ` +
    `(count(*) FILTER (WHERE status = 2))::INTEGER AS error_count, list(DISTINCT service) AS services, ` +
    `arg_min(service, (start_us, name, service)) FILTER (WHERE NOT has_parent) AS root_service, ` +
    `arg_min(name, (start_us, name, service)) FILTER (WHERE NOT has_parent) AS root_name ` +
    `FROM (${records}) GROUP BY tid ORDER BY tid`
  );
}

/** Recomputes the summaries of the traces in the `touched_traces` temp table. */
async function refreshTouched(writer: DuckDBConnection): Promise<void> {
  const source = `SELECT tid FROM ${TOUCHED}`;
  await writer.run(`DELETE FROM trace_summaries WHERE tid IN (${source})`);
  await writer.run(`INSERT INTO trace_summaries ${summarySelect(source)}`);
  await writer.run(`DROP TABLE ${TOUCHED}`);
}

/**
 * Recomputes the summaries of the traces among the rows staged in `stage` (run in the batch's
 * transaction, after its rows went into `spans`). A staged row starts with its 32-hex trace id.
 */
export async function refreshStagedTraces(writer: DuckDBConnection, stage: string): Promise<void> {
  await writer.run(`CREATE OR REPLACE TEMP TABLE ${TOUCHED} AS SELECT DISTINCT ${tidFromHex('substr(r, 1, 32)')} AS tid FROM ${stage}`);
  await refreshTouched(writer);
}

/**
 * Retention: notes the traces with a record that arrived before `us`, for `refreshAfterRetention`
 * once those records are deleted.
 */
export async function noteRetainedTraces(writer: DuckDBConnection, us: number): Promise<void> {
  await writer.run(`CREATE OR REPLACE TEMP TABLE ${TOUCHED} AS SELECT DISTINCT tid FROM spans WHERE ${ARRIVED_COLUMN} < $1`, [us]);
}

/**
 * Tail sampling: notes the traces `keys` (32 hex each, validated) for `refreshAfterRetention` once
 * their records are deleted.
 */
export async function noteDeletedTraces(writer: DuckDBConnection, keys: readonly string[]): Promise<void> {
  await writer.run(`CREATE OR REPLACE TEMP TABLE ${TOUCHED} AS SELECT DISTINCT ${tidFromHex('k')} AS tid FROM (SELECT unnest(string_split($1, ',')) AS k)`, [keys.join(',')]);
}

/** Recomputes the summaries noted by `noteRetainedTraces`: a trace with no record left loses its row. */
export async function refreshAfterRetention(writer: DuckDBConnection): Promise<void> {
  await refreshTouched(writer);
}

/**
 * Creates the table, and fills it from `spans` when the file was made before it (once; `log`
 * reports progress for a large store). Runs before the store takes writes.
 */
export async function ensureTraceSummaries(writer: DuckDBConnection, log: (line: string) => void): Promise<void> {
  await writer.run(TRACE_SUMMARIES_TABLE);
  const built = (await writer.runAndReadAll(`SELECT 1 FROM meta WHERE key = '${BUILT_KEY}'`)).getRowsJS();
  if (built.length > 0) return;
  const records = (await writer.runAndReadAll(`SELECT count(*)::DOUBLE FROM spans`)).getRowsJS()[0]![0] as number;
  const started = Date.now();
  const large = records >= 100_000;
  if (large) log(`embedded store: building trace summaries from ${records} span records (once, for a file made by an older version)…`);
  await writer.run('BEGIN TRANSACTION');
  try {
    await writer.run(`DELETE FROM trace_summaries`);
    if (records > 0) await writer.run(`INSERT INTO trace_summaries ${summarySelect(undefined)}`);
    await writer.run(`INSERT INTO meta VALUES ('${BUILT_KEY}', '1')`);
    await writer.run('COMMIT');
  } catch (err) {
    await writer.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  if (large) log(`embedded store: trace summaries built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * A store that runs without the table (`traceSummaries: false`, the federated agent's: the refresh
 * with every batch was ~5 µs of its ~26 µs per span, for searches an agent rarely answers). It is
 * emptied and its built mark removed, so opening the file with summaries again rebuilds it from
 * `spans`; searches compute the hits' summaries from their records instead (`summariesOfHits`).
 */
export async function dropTraceSummaries(writer: DuckDBConnection): Promise<void> {
  await writer.run(TRACE_SUMMARIES_TABLE);
  await writer.run(`DELETE FROM meta WHERE key = '${BUILT_KEY}'`);
  await writer.run(`DELETE FROM trace_summaries`);
}

/** For a search without the table: the summary rows of `hits` (a query yielding `tid`) computed from their records, named as the table. */
export function summariesOfHits(hits: string): string {
  return `(${summarySelect(hits)}) AS trace_summaries`;
}

/** Columns of a search hit's summary, in the order `summaryFromRow` reads them (from `trace_summaries`). */
export const SUMMARY_ROW_SQL = [
  TRACE_ID_TEXT,
  'start_us::DOUBLE',
  '(end_us - start_us)::DOUBLE',
  'span_count::DOUBLE',
  'error_count::DOUBLE',
  'services',
  'root_service',
  'root_name',
].join(', ');
