/**
 * SQL of the embedded store's service map (`serviceMapRows`): the rules of `ServiceMapRow`
 * (types.ts), as analysis/src/topology.ts applies them to spans, over the span records that start
 * in [$1, $2]. One pass groups records per (trace, span id, kind, service) so that a start record
 * and its end record count once; calls whose timed span is inferred (`linktrace.inferred`) are rows
 * of their own; attribute values are read from their promoted column or the
 * span's `rest` list, wherever the key was written.
 */
import { attributeColumn } from './schema.js';
import type { Statement, SearchHints } from './query-sql.js';
import { escapeText, UNIT } from './text-codec.js';

/** SQL for the stored (escaped) text of attribute `key`, NULL when a span does not have it. */
function attributeText(key: string, slotOf: ReadonlyMap<string, number>, hints: SearchHints, p: (v: string) => string): string {
  const slot = slotOf.get(key);
  const column = slot === undefined ? undefined : attributeColumn(slot);
  const inRest = hints.restMayHold(key)
    ? `split_part(list_filter(rest, lambda x: starts_with(x, ${p(escapeText(key) + UNIT)}))[1], chr(${UNIT.charCodeAt(0)}), 2)`
    : undefined;
  if (column !== undefined && inRest !== undefined) return `coalesce(${column}, ${inRest})`;
  return column ?? inRest ?? 'NULL::VARCHAR';
}

export function serviceMapSql(slotOf: ReadonlyMap<string, number>, hints: SearchHints): Statement {
  const params: (string | number)[] = [0, 0];
  const p = (v: string): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const stage = attributeText('linktrace.stage', slotOf, hints, p);
  const target = attributeText('linktrace.target', slotOf, hints, p);
  const dest = attributeText('messaging.destination.name', slotOf, hints, p);
  const inferred = attributeText('linktrace.inferred', slotOf, hints, p);
  const sql = `
WITH s AS (
  SELECT tid, sid, kind, service, any_value(pid) AS pid, max(status) AS status, max(duration_us) AS dur,
         any_value(remote_service) AS remote, any_value(${stage}) AS stage, any_value(${target}) AS target, any_value(${dest}) AS dest,
         coalesce(bool_or(${inferred} = 'true'), false) AS inferred
  FROM spans WHERE start_us >= $1 AND start_us <= $2
  GROUP BY tid, sid, kind, service
),
t AS (
  SELECT tid, sid, kind, service, pid, status, dur, remote, inferred,
         coalesce(kind = 4 OR stage IN ('dequeue', 'consume'), false) AS consuming,
         CASE WHEN NOT coalesce(kind = 3 OR stage = 'enqueue', false) THEN NULL
              WHEN target IS NOT NULL THEN CASE WHEN starts_with(target, 'mq:') AND length(target) > 3 THEN target END
              WHEN dest IS NOT NULL AND dest <> '' THEN 'mq:' || dest END AS queue
  FROM s
),
node AS (
  SELECT tid, sid, arg_min(service, CASE WHEN kind = 1 THEN 0 ELSE 1 END) AS service,
         arg_min(kind, CASE WHEN kind = 1 THEN 0 ELSE 1 END) AS kind,
         arg_min(queue, CASE WHEN kind = 1 THEN 0 ELSE 1 END) AS queue
  FROM t GROUP BY tid, sid
),
halves AS (
  SELECT tid, sid, any_value(service) AS client_service FROM t WHERE kind = 2 GROUP BY tid, sid
),
cq AS (
  SELECT c.tid, c.sid, c.kind, c.service, c.status, c.dur, c.inferred, p.queue
  FROM t c JOIN node p ON p.tid = c.tid AND p.sid = c.pid
  WHERE c.consuming AND p.queue IS NOT NULL
  UNION
  SELECT c.tid, c.sid, c.kind, c.service, c.status, c.dur, c.inferred, p.queue
  FROM t c JOIN span_links k ON k.tid = c.tid AND k.sid = c.sid
           JOIN node p ON p.tid = k.link_tid AND p.sid = k.link_sid
  WHERE c.consuming AND p.queue IS NOT NULL
),
plain AS (
  SELECT c.* FROM t c ANTI JOIN cq ON cq.tid = c.tid AND cq.sid = c.sid AND cq.kind = c.kind AND cq.service = c.service
),
callee AS (
  SELECT tid, pid AS sid, service FROM t WHERE pid IS NOT NULL
  UNION ALL
  SELECT tid, sid, service FROM t WHERE kind = 1
),
edges AS (
  -- producer → queue (the outermost producer of a message)
  SELECT c.service AS src, c.queue AS dst, c.status, c.dur, c.inferred
  FROM t c LEFT JOIN node p ON p.tid = c.tid AND p.sid = c.pid
  WHERE c.queue IS NOT NULL AND NOT coalesce(p.service = c.service AND p.queue = c.queue, false)
  UNION ALL
  -- queue → consumer
  SELECT queue, service, status, dur, inferred FROM cq
  UNION ALL
  -- caller → callee (a Zipkin shared server half is called by its client half)
  SELECT coalesce(CASE WHEN c.kind = 1 THEN h.client_service END, p.service), c.service, c.status, c.dur, c.inferred
  FROM plain c LEFT JOIN halves h ON h.tid = c.tid AND h.sid = c.sid
               LEFT JOIN node p ON p.tid = c.tid AND p.sid = c.pid
  UNION ALL
  -- a consumer linked to a producer that names no queue
  SELECT src, service, status, dur, inferred FROM (
    SELECT DISTINCT c.tid, c.sid, c.kind, c.service, c.status, c.dur, c.inferred, p.service AS src
    FROM plain c JOIN span_links k ON k.tid = c.tid AND k.sid = c.sid
                 JOIN node p ON p.tid = k.link_tid AND p.sid = k.link_sid
    WHERE c.kind = 4 AND p.kind = 3 AND p.service <> c.service
      AND NOT (c.pid IS NOT NULL AND c.pid = k.link_sid AND c.tid = k.link_tid)
  )
  UNION ALL
  -- a client or producer that no traced service answered: its peer's name
  SELECT c.service, c.remote, c.status, c.dur, c.inferred
  FROM t c
  WHERE c.kind IN (2, 3) AND c.queue IS NULL AND c.remote IS NOT NULL AND c.remote <> '' AND c.remote <> c.service
    AND NOT EXISTS (SELECT 1 FROM callee k WHERE k.tid = c.tid AND k.sid = c.sid AND k.service <> c.service)
    AND NOT EXISTS (SELECT 1 FROM span_links k WHERE k.link_tid = c.tid AND k.link_sid = c.sid)
)
SELECT src, dst, count(*)::DOUBLE, count(*) FILTER (WHERE status = 2)::DOUBLE, coalesce(quantile_disc(dur, 0.99), 0)::DOUBLE, inferred
FROM edges WHERE src IS NOT NULL AND dst IS NOT NULL AND src <> dst
GROUP BY src, dst, inferred`;
  return { sql, params };
}
