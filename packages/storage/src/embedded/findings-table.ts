/**
 * The embedded store's findings: appended with a sequence number, read back newest first with the
 * latest finding per (trace, rule, span) winning (a re-checked trace replaces its findings).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Finding } from '../types.js';
import { isValidTraceId } from '@linktrace/model';
import { StorageInputError } from '../storage-error.js';
import { equivalentTraceIds } from '../validate.js';
import type { NormalizedFindingFilter } from '../validate.js';
import type { Statement } from './query-sql.js';
import { tidFromHex } from './schema.js';

/**
 * Columns added to `findings` after its first release, for files made before them (DuckDB appends
 * them after the original columns, which is where `appendFindings` writes them).
 */
export const FINDINGS_MIGRATIONS = [`ALTER TABLE findings ADD COLUMN IF NOT EXISTS rpcid VARCHAR`];

/**
 * Retention: findings follow their trace (DESIGN §6). Removes the findings of every trace that has no
 * span record left (run after the records are deleted and the summaries refreshed); returns how many.
 * Stored trace ids are 16 or 32 hex; the summaries key a 64-bit id zero-padded to 128 bits.
 */
export async function deleteFindingsOfRemovedTraces(writer: DuckDBConnection, summaries = true): Promise<number> {
  const tid = tidFromHex(`lpad(trace_id, 32, '0')`);
  // Without `trace_summaries` (trace-summaries.ts) the traces left are read from the records themselves.
  const traces = summaries ? 'SELECT tid FROM trace_summaries' : 'SELECT DISTINCT tid FROM spans';
  return (await writer.run(`DELETE FROM findings WHERE ${tid} NOT IN (${traces})`)).rowsChanged;
}

/** Appends findings numbered from `firstSeq` on; returns the last number used. */
export async function appendFindings(writer: DuckDBConnection, findings: readonly Finding[], firstSeq: number): Promise<number> {
  let seq = firstSeq - 1;
  const appender = await writer.createAppender('findings');
  try {
    for (const f of findings) {
      appender.appendBigInt(BigInt(++seq));
      appender.appendVarchar(f.traceId);
      appender.appendVarchar(f.rule);
      appender.appendVarchar(f.service);
      appender.appendVarchar(f.spanId);
      appender.appendVarchar(f.message);
      appender.appendBigInt(BigInt(Math.floor(f.timeUs)));
      for (const v of [f.entity?.type, f.entity?.key, f.entity?.version, f.target, f.rpcid]) {
        if (v === undefined) appender.appendNull();
        else appender.appendVarchar(v);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return seq;
}

export function findingsSql(f: NormalizedFindingFilter): Statement {
  const params: (string | number)[] = [];
  const p = (v: string | number): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (f.traceId !== undefined) where.push(`trace_id IN (${equivalentTraceIds(f.traceId).map(p).join(', ')})`);
  if (f.rule !== undefined) where.push(`rule = ${p(f.rule)}`);
  if (f.service !== undefined) where.push(`service = ${p(f.service)}`);
  if (f.startUs !== undefined) where.push(`time_us >= ${p(f.startUs)}`);
  if (f.endUs !== undefined) where.push(`time_us <= ${p(f.endUs)}`);
  const latest =
    `SELECT trace_id, rule, service, span_id, message, time_us, entity_type, entity_key, entity_version, target, rpcid, seq ` +
    `FROM findings QUALIFY row_number() OVER (PARTITION BY trace_id, rule, span_id ORDER BY seq DESC) = 1`;
  const sql =
    `SELECT trace_id, rule, service, span_id, message, time_us::DOUBLE, entity_type, entity_key, entity_version, target, rpcid ` +
    `FROM (${latest}) WHERE ${where.length ? where.join(' AND ') : 'true'} ORDER BY time_us DESC, seq DESC LIMIT ${f.limit}`;
  return { sql, params };
}

export function findingFromRow(r: readonly unknown[]): Finding {
  const finding: Finding = {
    traceId: r[0] as string,
    rule: r[1] as Finding['rule'],
    service: r[2] as string,
    spanId: r[3] as string,
    message: r[4] as string,
    timeUs: r[5] as number,
  };
  if (r[6] !== null) {
    finding.entity = { type: r[6] as string, key: r[7] as string };
    if (r[8] !== null) finding.entity.version = r[8] as string;
  }
  if (r[9] !== null) finding.target = r[9] as string;
  if (r[10] !== null && r[10] !== undefined) finding.rpcid = r[10] as string;
  return finding;
}

/**
 * The stored trace ids whose findings `replaceFindings` removes: each asked id in every spelling the
 * store treats as equal. Refuses a finding that belongs to none of them.
 */
export function replacedTraceIds(traceIds: readonly string[], findings: readonly Finding[]): string[] {
  if (!Array.isArray(traceIds)) throw new StorageInputError('invalid_finding', 'traceIds', 'traceIds must be an array');
  const ids = new Set<string>();
  for (const [i, id] of traceIds.entries()) {
    if (!isValidTraceId(id, true)) throw new StorageInputError('invalid_finding', `traceIds[${i}]`, `traceIds[${i}] must be 32 or 16 lowercase hex`);
    for (const same of equivalentTraceIds(id)) ids.add(same);
  }
  for (const [i, f] of findings.entries()) {
    if (!ids.has(f.traceId)) {
      throw new StorageInputError('invalid_finding', `findings[${i}].traceId`, `findings[${i}] belongs to trace ${f.traceId}, which is not among traceIds`);
    }
  }
  return [...ids];
}

/** The key spans and findings of one trace share: 32 hex (a Zipkin 16-hex id padded with zeros). */
const FINDING_KEY = `lpad(trace_id, 32, '0')`;

/**
 * Trace ids (as UHUGEINT `tid`, what the spans table keys on) that have stored findings: a search's
 * `hasFindings` condition is a semi (or anti) join on it.
 */
export function findingTidsSql(tidFromHex: (expr: string) => string): string {
  return `SELECT DISTINCT ${tidFromHex(FINDING_KEY)} FROM findings`;
}

/**
 * Findings per trace for the given 32-hex keys (one per broken hop and rule: replaced findings are
 * not counted twice). Rows: key, count.
 */
export function findingCountsSql(keys: readonly string[]): Statement {
  const list = keys.map((_, i) => `$${i + 1}`).join(', ');
  return {
    sql: `SELECT ${FINDING_KEY} AS k, count(DISTINCT (rule, span_id))::DOUBLE FROM findings WHERE ${FINDING_KEY} IN (${list}) GROUP BY k`,
    params: [...keys],
  };
}
