/** SQL of the embedded store's searches, built from validated input; values always go as parameters. */
import type { NormalizedTraceQuery } from '../validate.js';
import { STATUS_NUMBER } from './span-row-encoder.js';
import { attributeColumn, tidFromHex } from './schema.js';
import { SUMMARY_ROW_SQL } from './trace-summaries.js';
import { findingTidsSql } from './findings-table.js';
import { bagNeedle, escapeText, listEntry, queryText } from './text-codec.js';

export interface Statement {
  sql: string;
  params: (string | number)[];
}

/** What the store knows it has written, so a search can leave out tests that cannot match. */
export interface SearchHints {
  /** The stored resource / scope texts holding a needle (undefined: unknown, test every row). */
  resources(needle: string): string[] | undefined;
  scopes(needle: string): string[] | undefined;
  /** Whether a key may sit in some span's `rest` list / in some event or link attributes. */
  restMayHold(key: string): boolean;
  sideMayHold(key: string): boolean;
}

function bagTest(column: string, needle: string, known: string[] | undefined, p: (v: string) => string): string | undefined {
  if (known === undefined) return `contains(${column}, ${p(needle)})`;
  if (known.length === 0) return undefined;
  return `${column} IN (${known.map(p).join(', ')})`;
}

/**
 * Traces with a span meeting every condition: the `limit` traces whose newest matching span is the
 * newest, each as its `trace_summaries` row (see trace-summaries.ts), then the number of candidate spans.
 *
 * Only the newest `candidates` matching spans are grouped into traces: with ORDER BY start LIMIT,
 * DuckDB skips every row group whose newest start is older than the spans already kept, so a
 * search for recent traces reads only recent data. The answer is exact when those spans hold at
 * least `limit` traces, or are fewer than `candidates` (all matches); otherwise the caller asks
 * again with more candidates. `candidates` undefined: no cut.
 *
 * An attribute condition on a key with its own column is a filter DuckDB runs inside the scan, on
 * the compressed column, as long as it stands alone. Its other places (the `rest` list of rows
 * written before the key got its column, resource, scope, events and links) made it an OR that
 * DuckDB could only evaluate after reading every row's column and list: 3-4× the time of the column
 * test. So the first such condition is split into two scans, each with its own ORDER BY start LIMIT,
 * whose union is exactly the original condition: the column equals the value / it does not, and
 * one of the other places holds the pair.
 */
export function traceSearchSql(
  q: NormalizedTraceQuery,
  slotOf: ReadonlyMap<string, number>,
  hints: SearchHints,
  candidates?: number,
  /** Where the hits' summary rows come from (a relation named like `trace_summaries`, given the CTE `hits`). */
  summariesOf: (hits: string) => string = () => 'trace_summaries',
): Statement {
  const params: (string | number)[] = [];
  const p = (v: string | number): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (q.service !== undefined) where.push(`service = ${p(escapeText(q.service))}`);
  if (q.operation !== undefined) where.push(`name = ${p(escapeText(q.operation))}`);
  if (q.status !== undefined) where.push(`status = ${STATUS_NUMBER[q.status]}`);
  if (q.minDurationUs !== undefined) where.push(`duration_us >= ${p(q.minDurationUs)}`);
  if (q.maxDurationUs !== undefined) where.push(`duration_us <= ${p(q.maxDurationUs)}`);
  if (q.startUs !== undefined) where.push(`start_us >= ${p(q.startUs)}`);
  if (q.endUs !== undefined) where.push(`start_us <= ${p(q.endUs)}`);
  // A condition on the whole trace: every span of a trace with findings passes it, so the rest of the search is unchanged.
  if (q.hasFindings !== undefined) where.push(`tid ${q.hasFindings ? 'IN' : 'NOT IN'} (${findingTidsSql(tidFromHex)})`);
  /** The two halves of the first column condition that has other places too: [in the column, elsewhere]. */
  let split: [string, string] | undefined;
  for (const [key, value] of q.attributeList) {
    const text = queryText(value);
    const slot = slotOf.get(key);
    const column = slot === undefined ? undefined : attributeColumn(slot);
    const entry = hints.restMayHold(key) ? p(listEntry(key, text)) : undefined;
    // Rows written before the key got its column keep it in `rest`; the column is NULL there.
    const inList =
      entry === undefined ? undefined : column === undefined ? `list_contains(rest, ${entry})` : `(${column} IS NULL AND rest IS NOT NULL AND list_contains(rest, ${entry}))`;
    const needle = bagNeedle(key, text);
    const elsewhere = [
      inList,
      bagTest('resource', needle, hints.resources(needle), p),
      bagTest('scope_attrs', needle, hints.scopes(needle), p),
      hints.sideMayHold(key) ? `contains(side, ${p(needle)})` : undefined,
    ].filter((t) => t !== undefined);
    const any = (tests: string[]): string => (tests.length === 0 ? 'false' : tests.length === 1 ? tests[0]! : `(${tests.join(' OR ')})`);
    if (column === undefined) {
      // No place can hold the pair: the condition is false (and the search empty).
      where.push(any(elsewhere));
      continue;
    }
    const inColumn = `${column} = ${p(text)}`;
    if (elsewhere.length === 0) where.push(inColumn);
    else if (split === undefined) split = [inColumn, `${column} IS DISTINCT FROM ${p(text)} AND ${any(elsewhere)}`];
    else where.push(`(${inColumn} OR ${any(elsewhere)})`);
  }
  const cut = candidates === undefined ? '' : ` ORDER BY start_us DESC LIMIT ${candidates}`;
  const scan = (extra?: string): string => {
    const all = extra === undefined ? where : [...where, extra];
    return `SELECT tid, start_us FROM spans WHERE ${all.length ? all.join(' AND ') : 'true'}${cut}`;
  };
  const cand =
    split === undefined
      ? scan()
      : `SELECT * FROM ((${scan(split[0])}) UNION ALL (${scan(split[1])}))${cut}`;
  const sql =
    `WITH cand AS MATERIALIZED (${cand}), ` +
    `hits AS (SELECT tid, max(start_us) AS newest FROM cand GROUP BY tid ORDER BY newest DESC, tid DESC LIMIT ${q.limit}) ` +
    `SELECT ${SUMMARY_ROW_SQL}, (SELECT count(*) FROM cand)::DOUBLE FROM ${summariesOf('SELECT tid FROM hits')} JOIN hits USING (tid)`;
  return { sql, params };
}

/**
 * Service edges among span records starting in [$1, $2]. Records are first merged per (trace, span
 * id, kind, service) so a start record and its end record count once. A Zipkin shared server half
 * is called by its client half; any other span by the span its parent id names, which for a shared
 * id is the server half (the server made the calls).
 */
export const DEPENDENCIES_SQL = `
WITH s AS (
  SELECT tid, sid, kind, service, any_value(pid) AS pid, max(status) AS status, any_value(remote_service) AS remote
  FROM spans WHERE start_us >= $1 AND start_us <= $2
  GROUP BY tid, sid, kind, service
),
node AS (
  SELECT tid, sid, arg_min(service, CASE WHEN kind = 1 THEN 0 ELSE 1 END) AS service,
         arg_min(kind, CASE WHEN kind = 1 THEN 0 ELSE 1 END) AS kind
  FROM s GROUP BY tid, sid
),
halves AS (
  SELECT tid, sid, any_value(service) AS client_service FROM s WHERE kind = 2 GROUP BY tid, sid
),
callee AS (
  SELECT tid, pid AS sid, service FROM s WHERE pid IS NOT NULL
  UNION ALL
  SELECT tid, sid, service FROM s WHERE kind = 1
),
edges AS (
  -- Join conditions stay plain equalities (kind tested after the join) so they run as hash joins.
  SELECT parent, child, status FROM (
    SELECT coalesce(CASE WHEN c.kind = 1 THEN h.client_service END, p.service) AS parent, c.service AS child, c.status AS status
    FROM s c LEFT JOIN halves h ON h.tid = c.tid AND h.sid = c.sid
             LEFT JOIN node p ON p.tid = c.tid AND p.sid = c.pid
  ) WHERE parent <> child
  UNION ALL
  SELECT p.service, c.service, c.status
  -- Distinct: a span stored twice (a redelivered batch, a start record with its links) links once.
  FROM s c JOIN (SELECT DISTINCT tid, sid, link_tid, link_sid FROM span_links WHERE start_us >= $1 AND start_us <= $2) k ON k.tid = c.tid AND k.sid = c.sid
           JOIN node p ON p.tid = k.link_tid AND p.sid = k.link_sid
  WHERE c.kind = 4 AND p.kind = 3 AND p.service <> c.service
    AND NOT (c.pid IS NOT NULL AND c.pid = k.link_sid AND c.tid = k.link_tid)
  UNION ALL
  SELECT c.service, c.remote, c.status
  FROM s c
  WHERE c.kind IN (2, 3) AND c.remote IS NOT NULL AND c.remote <> c.service
    AND NOT EXISTS (SELECT 1 FROM callee k WHERE k.tid = c.tid AND k.sid = c.sid AND k.service <> c.service)
    AND NOT EXISTS (SELECT 1 FROM span_links k WHERE k.link_tid = c.tid AND k.link_sid = c.sid)
)
SELECT parent, child, count(*)::DOUBLE AS calls, count(*) FILTER (WHERE status = 2)::DOUBLE AS errors
FROM edges GROUP BY parent, child ORDER BY parent, child`;
