/**
 * The ClickHouse store's tables and their versioned migrations (DESIGN §6).
 *
 *   spans_in    a `Null` table the inserts go to: its materialized views fan each block out to
 *               `spans`, `span_index` and `trace_summaries`, so the search pairs (`attr_kv`, the widest
 *               column after the record) are stored once, in `span_index` only.
 *   spans       one row per span record: the columns that trace reads, retention and service-map
 *               reads need, and the whole span as JSON (`record`). ORDER BY (trace_key, start_us):
 *               a trace is one contiguous range of one part per partition.
 *   span_index  the search columns only, ORDER BY (service, start_us), filled from `spans` by a
 *               materialized view: searches by service and time read a narrow, sorted range.
 *   findings    ReplacingMergeTree(seq) keyed (trace_key, rule, span_id): a newer row of a key
 *               replaces the older one (reads take argMax by seq, so they are right before a merge
 *               too); `deleted = 1` rows are the tombstones `replaceFindings` writes.
 *   sdk_drops   every SDK drop report; reads keep the latest per (service, instance).
 *   trace_summaries (schema 2) per trace and arrival day, the newest start of its records
 *               (AggregatingMergeTree, maxState, filled by a materialized view): a search without
 *               span conditions ("recent traces", "recent traces with findings") ranks traces from
 *               one row per trace and day instead of every span. It follows the arrival-day
 *               partitions of `spans`; after a partial-day deletion the store rebuilds that day.
 *
 * spans and span_index are partitioned by ARRIVAL day (retention counts from arrival, DESIGN §6):
 * old days go with DROP PARTITION, the cutoff day with an ALTER … DELETE mutation.
 *
 * With a cluster (`cluster` set), each node holds `<table>_local` MergeTree tables and
 * `<table>` Distributed tables over them, sharded by trace so a trace lives on one shard.
 *
 * Version notes (Debian 12 ships ClickHouse 18.16.1): no column codecs (ZSTD/Delta arrived in
 * 19.10), no TTL (19.6; see `ttlStatements`), no SimpleAggregateFunction; `CREATE TABLE … ENGINE =
 * MergeTree PARTITION BY … ORDER BY …`, materialized views `TO` a table, `Distributed`, mutations
 * and `system.mutations` all exist in 18.16 and are unchanged since.
 */

/** The newest schema this code knows. A database at a higher version is refused. */
export const SCHEMA_VERSION = 2;

/** Where the applied migrations are listed, one row per version (per node in a cluster). */
export const MIGRATIONS_TABLE = 'linktrace_migrations';

export const DATA_TABLES = ['spans_in', 'spans', 'span_index', 'findings', 'sdk_drops', 'trace_summaries'] as const;
export type DataTable = (typeof DATA_TABLES)[number];

/** Tables that mutations and partition drops act on (the MergeTree tables, local on each node). */
export const SPAN_TABLES = ['spans', 'span_index', 'trace_summaries'] as const;

export interface Layout {
  database: string;
  /** Cluster name of `<remote_servers>`; undefined: one server, no Distributed tables. */
  cluster?: string | undefined;
}

/** The MergeTree table behind `table` on one node. */
export function localTable(layout: Layout, table: DataTable): string {
  return layout.cluster === undefined ? table : `${table}_local`;
}

export const ARRIVAL_DAY = 'toYYYYMMDD(toDateTime(intDiv(arrived_us, 1000000)))';

export const SPAN_COLUMNS = [
  'trace_key',
  'span_id',
  'parent_id',
  'kind',
  'service',
  'name',
  'start_us',
  'duration_us',
  'status',
  'attr_kv',
  'arrived_us',
  'record',
] as const;

function migration1(layout: Layout): string[] {
  const t = (name: DataTable): string => localTable(layout, name);
  const out = [
    `CREATE TABLE IF NOT EXISTS ${t('spans')} (
      trace_key String, span_id String, parent_id String, kind UInt8, service String, name String,
      start_us Int64, duration_us Int64, status UInt8, arrived_us Int64, record String
    ) ENGINE = MergeTree PARTITION BY ${ARRIVAL_DAY} ORDER BY (trace_key, start_us, span_id)`,
    // Inserts go here; the views below fan each block out to the tables (the pairs only to span_index).
    `CREATE TABLE IF NOT EXISTS ${t('spans_in')} (
      trace_key String, span_id String, parent_id String, kind UInt8, service String, name String,
      start_us Int64, duration_us Int64, status UInt8, attr_kv Array(String), arrived_us Int64, record String
    ) ENGINE = Null`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS spans_mv TO ${t('spans')} AS
      SELECT trace_key, span_id, parent_id, kind, service, name, start_us, duration_us, status, arrived_us, record FROM ${t('spans_in')}`,
    `CREATE TABLE IF NOT EXISTS ${t('span_index')} (
      service String, start_us Int64, name String, kind UInt8, duration_us Int64, status UInt8,
      trace_key String, attr_kv Array(String), arrived_us Int64
    ) ENGINE = MergeTree PARTITION BY ${ARRIVAL_DAY} ORDER BY (service, start_us, name)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS span_index_mv TO ${t('span_index')} AS
      SELECT service, start_us, name, kind, duration_us, status, trace_key, attr_kv, arrived_us FROM ${t('spans_in')}`,
    `CREATE TABLE IF NOT EXISTS ${t('findings')} (
      trace_key String, rule String, span_id String, service String, time_us Int64, record String, seq UInt64, deleted UInt8
    ) ENGINE = ReplacingMergeTree(seq) ORDER BY (trace_key, rule, span_id)`,
    `CREATE TABLE IF NOT EXISTS ${t('sdk_drops')} (
      service String, instance String, reported_us Int64, dropped_spans Int64, seq UInt64
    ) ENGINE = ReplacingMergeTree(seq) ORDER BY (service, instance, reported_us)`,
  ];
  if (layout.cluster !== undefined) {
    const shardBy: Record<'spans_in' | 'spans' | 'span_index' | 'findings' | 'sdk_drops', string> = {
      spans_in: 'cityHash64(trace_key)',
      spans: 'cityHash64(trace_key)',
      span_index: 'cityHash64(trace_key)',
      findings: 'cityHash64(trace_key)',
      sdk_drops: 'rand()',
    };
    for (const name of ['spans_in', 'spans', 'span_index', 'findings', 'sdk_drops'] as const) {
      out.push(
        `CREATE TABLE IF NOT EXISTS ${name} AS ${t(name)} ENGINE = Distributed(${layout.cluster}, ${layout.database}, ${t(name)}, ${shardBy[name]})`,
      );
    }
  }
  return out;
}

/** The `trace_summaries` rows of the span records selected by `where` (a backfill, or a rebuilt day). */
export function summariesFromSpans(layout: Layout, where: string): string {
  return (
    `INSERT INTO ${localTable(layout, 'trace_summaries')} SELECT trace_key, ${ARRIVAL_DAY} AS day, maxState(start_us) AS newest ` +
    `FROM ${localTable(layout, 'spans')} WHERE ${where} GROUP BY trace_key, day`
  );
}

function migration2(layout: Layout): string[] {
  const t = (name: DataTable): string => localTable(layout, name);
  const out = [
    `CREATE TABLE IF NOT EXISTS ${t('trace_summaries')} (trace_key String, day UInt32, newest AggregateFunction(max, Int64))
      ENGINE = AggregatingMergeTree PARTITION BY day ORDER BY trace_key`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS trace_summaries_mv TO ${t('trace_summaries')} AS
      SELECT trace_key, ${ARRIVAL_DAY} AS day, maxState(start_us) AS newest FROM ${t('spans_in')} GROUP BY trace_key, day`,
    // Spans stored before this migration (a max counted twice is still the max: rerunning is harmless).
    summariesFromSpans(layout, '1'),
  ];
  if (layout.cluster !== undefined) {
    out.push(
      `CREATE TABLE IF NOT EXISTS trace_summaries AS ${t('trace_summaries')} ENGINE = Distributed(${layout.cluster}, ${layout.database}, ${t('trace_summaries')}, cityHash64(trace_key))`,
    );
  }
  return out;
}

/** Migration n (1-based) is MIGRATIONS[n - 1]: statements, each idempotent (IF NOT EXISTS). */
export const MIGRATIONS: readonly ((layout: Layout) => string[])[] = [migration1, migration2];

/**
 * TTL by arrival, for servers that have it (19.6 and later): the day after `days` days of arrival
 * the rows go at the next merge. On 18.16 there is no TTL, and retention is `deleteBefore` alone
 * (the server's retention job calls it), which drops whole partitions and mutates the cutoff day.
 */
export function ttlStatements(layout: Layout, days: number): string[] {
  const n = Math.ceil(days);
  return [
    ...(['spans', 'span_index'] as const).map(
      (name) => `ALTER TABLE ${localTable(layout, name)} MODIFY TTL toDateTime(intDiv(arrived_us, 1000000)) + INTERVAL ${n} DAY`,
    ),
    // Summaries carry the arrival day itself; they outlive the spans by at most a day.
    `ALTER TABLE ${localTable(layout, 'trace_summaries')} MODIFY TTL ` +
      `toDate(concat(substring(toString(day), 1, 4), '-', substring(toString(day), 5, 2), '-', substring(toString(day), 7, 2))) + INTERVAL ${n + 1} DAY`,
  ];
}

/** Whether server version `version` (e.g. `18.16.1`, `24.8.4.13`) has table TTL. */
export function hasTtl(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 19 || (major === 19 && minor >= 6);
}
