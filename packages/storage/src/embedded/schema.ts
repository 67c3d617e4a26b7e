/**
 * The embedded store's tables and the SQL that moves staged rows into them.
 *
 * `spans` is laid out for the server's targets (bytes per span, search latency):
 * - the trace id is one UHUGEINT; rows go in as they arrive, and with time-prefixed ids (which
 *   arrive nearly in order, a trace's spans mostly together) a trace's rows sit close (RLE) and each
 *   row group covers a narrow id range: DuckDB's per-row-group min/max then skips almost every row
 *   group on a trace-id lookup;
 * - span and parent ids are UBIGINT (8 bytes, the random floor), times BIGINT µs (bit-packed);
 * - service, name, instance, rpcid, kind, status are low-cardinality and dictionary/bit-packed;
 * - frequent attribute keys get their own column (`a<slot>`, see attribute-columns.ts), the rest
 *   sit in `rest` as `key␟value` entries; resource and scope attributes are one text each
 *   (identical for every span of a process, so nearly free after dictionary compression);
 * - whatever is rare (events, links, trace state, remote endpoint…) is one JSON text, NULL otherwise.
 * Start records and their end records are both kept; reads merge them. A span whose start is
 * unknown (a Zipkin span without timestamp) is stored with start_us 0.
 */
import { ABSENT, ENTRY, FIELD, UNIT } from './text-codec.js';

export const SCHEMA_VERSION = '1';
export const DATABASE_FILE = 'linktrace.duckdb';

/** Tables every backend built on a DuckDB file keeps (the block store keeps only these in DuckDB). */
export const META_TABLE = `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`;
export const ATTRIBUTE_COLUMNS_TABLE = `CREATE TABLE IF NOT EXISTS attribute_columns (slot INTEGER PRIMARY KEY, key VARCHAR NOT NULL)`;
export const FINDINGS_TABLE = `CREATE TABLE IF NOT EXISTS findings (
  seq BIGINT NOT NULL, trace_id VARCHAR NOT NULL, rule VARCHAR NOT NULL, service VARCHAR NOT NULL,
  span_id VARCHAR NOT NULL, message VARCHAR NOT NULL, time_us BIGINT NOT NULL, entity_type VARCHAR,
  entity_key VARCHAR, entity_version VARCHAR, target VARCHAR)`;

export const CREATE_TABLES = [
  META_TABLE,
  `CREATE TABLE IF NOT EXISTS spans (
    tid UHUGEINT NOT NULL, t64 BOOLEAN, sid UBIGINT NOT NULL, pid UBIGINT, rpcid VARCHAR,
    service VARCHAR NOT NULL, instance VARCHAR, name VARCHAR NOT NULL, kind UTINYINT NOT NULL,
    start_us BIGINT NOT NULL, duration_us BIGINT, status UTINYINT NOT NULL, status_msg VARCHAR,
    kinds VARCHAR, rest VARCHAR[], resource VARCHAR, scope_name VARCHAR, scope_version VARCHAR,
    scope_attrs VARCHAR, remote_service VARCHAR, side VARCHAR, extra VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS span_links (
    tid UHUGEINT NOT NULL, sid UBIGINT NOT NULL, start_us BIGINT NOT NULL,
    link_tid UHUGEINT NOT NULL, link_sid UBIGINT NOT NULL)`,
  ATTRIBUTE_COLUMNS_TABLE,
  FINDINGS_TABLE,
];

/** 1-based positions of the staged fields (DuckDB lists are 1-based). */
export const F = {
  tid: 1,
  t64: 2,
  sid: 3,
  pid: 4,
  rpcid: 5,
  service: 6,
  instance: 7,
  name: 8,
  kind: 9,
  start: 10,
  duration: 11,
  status: 12,
  statusMsg: 13,
  kinds: 14,
  promoted: 15,
  rest: 16,
  resource: 17,
  scopeName: 18,
  scopeVersion: 19,
  scopeAttrs: 20,
  remoteService: 21,
  side: 22,
  extra: 23,
  links: 24,
} as const;

const chr = (c: string): string => `chr(${c.charCodeAt(0)})`;
const ABS = chr(ABSENT);

/** SQL for a 32-hex text expression as the UHUGEINT trace id. */
export function tidFromHex(expr: string): string {
  return `((('0x' || substr(${expr}, 1, 16))::UBIGINT::UHUGEINT << 64) | ('0x' || substr(${expr}, 17, 16))::UBIGINT::UHUGEINT)`;
}

// Formatted as two 64-bit halves: DuckDB turns a UHUGEINT into text far more slowly.
const TID_LO = `(tid & 18446744073709551615::UHUGEINT)::UBIGINT`;
/** The trace id as 32 hex, whatever form it was written in (the key spans of one trace share). */
export const TRACE_KEY_TEXT = `printf('%016x%016x', (tid >> 64)::UBIGINT, ${TID_LO})`;
/** The trace id as text, in the form it was written (16 hex for Zipkin 64-bit ids). */
export const TRACE_ID_TEXT = `CASE WHEN t64 THEN printf('%016x', ${TID_LO}) ELSE ${TRACE_KEY_TEXT} END`;

function opt(i: number): string {
  return `nullif(l[${i}], ${ABS})`;
}

export function attributeColumn(slot: number): string {
  return `a${slot}`;
}

/**
 * When a record arrived (server clock, µs): what retention counts from (DESIGN §6), never the span's
 * own time, so imported history is kept as long as fresh data. One value per batch, written as a
 * constant of the insert: no per-span work, and a column that changes once per batch compresses to
 * almost nothing. A batch gathered from callers that gave different arrival times (`writeSpans`'
 * `arrivedUs`) picks each row's by its position in the stage table (a CASE on `rowid`, rows being
 * appended in order), so no caller's rows take another's time. Added to files made before it by
 * arrival-columns.ts.
 */
export const ARRIVED_COLUMN = 'arrived_us';

/** Rows up to `end` (exclusive, counted from the stage table's first row) arrived at `arrivedUs`. */
export interface RowArrival {
  end: number;
  arrivedUs: number;
}

function arrivalLiteral(arrivedUs: number): string {
  if (!Number.isSafeInteger(arrivedUs)) throw new RangeError(`embedded store: arrival time ${arrivedUs} is not an integer of µs`);
  return `${arrivedUs}::BIGINT`;
}

/** The arrival of the stage row whose `rowid` is selected as `rid`: a constant when there is one run. */
function arrivalSql(runs: readonly RowArrival[]): string {
  const merged: RowArrival[] = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.arrivedUs === run.arrivedUs) last.end = run.end;
    else merged.push({ ...run });
  }
  if (merged.length === 0) throw new RangeError('embedded store: a batch without an arrival time');
  if (merged.length === 1) return arrivalLiteral(merged[0]!.arrivedUs);
  const whens = merged.slice(0, -1).map((run) => `WHEN rid < ${run.end} THEN ${arrivalLiteral(run.arrivedUs)}`);
  return `CASE ${whens.join(' ')} ELSE ${arrivalLiteral(merged[merged.length - 1]!.arrivedUs)} END`;
}

/** The stage table's rows split into fields (`l`), with their position (`rid`). */
const stageRows = (stage: string): string => `SELECT rowid AS rid, string_split(r, ${chr(FIELD)}) AS l FROM ${stage}`;

/**
 * Moves the rows staged in `stage` into `spans`, in arrival order, marked as arrived per `arrivals`. Not sorted: time-prefixed trace ids arrive nearly in order and a trace's spans mostly together, so a row group's min/max still
 * spans a narrow id range and the trace id column still run-length encodes, while the sort cost a
 * quarter of the insert's CPU (measured: same bytes per span, same lookup latency without it).
 * `mergeInBatch` (only needed when the batch holds start records) drops a start record whose end
 * record is in the same batch.
 */
export function insertSpansSql(columnCount: number, stage: string, mergeInBatch: boolean, arrivals: readonly RowArrival[]): string {
  const cols = [
    'tid', 't64', 'sid', 'pid', 'rpcid', 'service', 'instance', 'name', 'kind', 'start_us', 'duration_us',
    'status', 'status_msg', 'kinds', 'rest', 'resource', 'scope_name', 'scope_version', 'scope_attrs',
    'remote_service', 'side', 'extra', ARRIVED_COLUMN,
  ];
  const values = [
    tidFromHex(`l[${F.tid}]`),
    `CASE WHEN l[${F.t64}] = '1' THEN true END`,
    `('0x' || l[${F.sid}])::UBIGINT`,
    `('0x' || ${opt(F.pid)})::UBIGINT`,
    opt(F.rpcid),
    `l[${F.service}]`,
    opt(F.instance),
    `l[${F.name}]`,
    `l[${F.kind}]::UTINYINT`,
    `l[${F.start}]::BIGINT`,
    `${opt(F.duration)}::BIGINT`,
    `l[${F.status}]::UTINYINT`,
    opt(F.statusMsg),
    opt(F.kinds),
    `CASE WHEN l[${F.rest}] = ${ABS} THEN NULL ELSE string_split(l[${F.rest}], ${chr(ENTRY)}) END`,
    opt(F.resource),
    opt(F.scopeName),
    opt(F.scopeVersion),
    opt(F.scopeAttrs),
    opt(F.remoteService),
    opt(F.side),
    opt(F.extra),
    arrivalSql(arrivals),
  ];
  for (let i = 0; i < columnCount; i++) {
    cols.push(attributeColumn(i));
    values.push(`nullif(p[${i + 1}], ${ABS})`);
  }
  const select =
    `SELECT ${values.map((v, i) => `${v} AS ${cols[i]}`).join(', ')} ` +
    `FROM (SELECT rid, l, string_split(l[${F.promoted}], ${chr(ENTRY)}) AS p FROM (${stageRows(stage)}))`;
  // A start record whose end record is in the same batch is not stored at all (reads would drop it).
  // Same key as record-merge.ts: records of other instances or other start times are other spans
  // (a fan-out recorded by each callee), and untimed records (start_us 0) are merged on read only.
  const dedupe = mergeInBatch
    ? ` QUALIFY NOT (duration_us IS NULL AND start_us <> 0 AND count(duration_us) OVER (PARTITION BY tid, sid, kind, service, instance, start_us) > 0)`
    : '';
  return `INSERT INTO spans (${cols.join(', ')}) SELECT * FROM (${select})${dedupe}`;
}

/** Indexes the links of the rows staged in `stage` (consumer → producer edges of `dependencies`). */
export function insertLinksSql(stage: string, arrivals: readonly RowArrival[]): string {
  return (
    `INSERT INTO span_links (tid, sid, start_us, link_tid, link_sid, ${ARRIVED_COLUMN}) ` +
    `SELECT ${tidFromHex(`l[${F.tid}]`)}, ('0x' || l[${F.sid}])::UBIGINT, l[${F.start}]::BIGINT, ` +
    `${tidFromHex(`split_part(e, ${chr(UNIT)}, 1)`)}, ('0x' || split_part(e, ${chr(UNIT)}, 2))::UBIGINT, ${arrivalSql(arrivals)} ` +
    `FROM (SELECT rid, l, unnest(string_split(l[${F.links}], ${chr(ENTRY)})) AS e ` +
    `FROM (${stageRows(stage)}) WHERE l[${F.links}] <> ${ABS})`
  );
}

/** Columns a full span is rebuilt from, in the order row-decoder.ts reads them. */
export function spanColumnsSql(columnCount: number): string {
  const cols = [
    TRACE_ID_TEXT,
    `printf('%016x', sid)`,
    `CASE WHEN pid IS NULL THEN NULL ELSE printf('%016x', pid) END`,
    'rpcid',
    'service',
    'instance',
    'name',
    'kind',
    'start_us::DOUBLE',
    'duration_us::DOUBLE',
    'status',
    'status_msg',
    'kinds',
    'rest',
    'resource',
    'scope_name',
    'scope_version',
    'scope_attrs',
    'extra',
  ];
  for (let i = 0; i < columnCount; i++) cols.push(attributeColumn(i));
  return cols.join(', ');
}

/** Distinct (escaped) keys of the `rest` lists. */
export const REST_KEYS_SQL = `SELECT DISTINCT split_part(e, ${chr(UNIT)}, 1) FROM (SELECT unnest(rest) AS e FROM spans WHERE rest IS NOT NULL)`;

/** Distinct (escaped) keys of the event and link attribute texts. */
export const SIDE_KEYS_SQL =
  `SELECT DISTINCT unnest(regexp_extract_all(side, ${chr(ENTRY)} || '([^' || ${chr(UNIT)} || ']*)' || ${chr(UNIT)}, 1)) ` +
  `FROM spans WHERE side IS NOT NULL`;
