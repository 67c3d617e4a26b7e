/**
 * DuckDB rewriting block files: compaction (many micro-blocks → one sorted, zstd-compressed file)
 * and retention (a file straddling the cutoff → the part to keep). DuckDB's native Parquet writer
 * does the heavy work off the JS thread; the output is fsynced before any manifest names it.
 */
import { stat, unlink } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { summarySelect } from '../embedded/trace-summaries.js';
import { NOT_TOMBSTONED, resolvedRowsSql, spansRelationSql } from './block-relation.js';
import { mergedRestKeys } from './manifest.js';
import type { BlockFile } from './manifest.js';
import { syncFile } from './parquet-file.js';

/** Rows per row group of a compacted file (DuckDB's own row group size: min/max prune per group). */
export const COMPACTED_ROW_GROUP = 16_384;

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Writes the rows of `inputs` passing `where` (raw block columns, row alias `r`) and no tombstone
 * numbered up to `tombApplied` hides, sorted by trace id then start, to `output`. Returns its
 * manifest entry (named `name`), or undefined when no row is left (no file is then kept).
 */
export async function copyBlocks(
  c: DuckDBConnection,
  inputs: readonly BlockFile[],
  paths: readonly string[],
  output: string,
  name: string,
  options: { where?: string; tombstones: boolean; tombApplied: number },
): Promise<BlockFile | undefined> {
  const where = [options.where, options.tombstones ? NOT_TOMBSTONED.replace('tb.upto >= r.bseq', `tb.upto >= r.bseq AND tb.tseq <= ${options.tombApplied}`) : undefined].filter(
    (w) => w !== undefined,
  );
  const positioned = inputs.some((f) => f.format === 2);
  // Parent positions change with the new order: resolved to ids first, then each row whose parent
  // is in the output (same trace) gets its distance to the parent's first row, the others keep
  // the id. The row numbers fix the output order, so positions and rows agree.
  await c.run(
    `COPY (WITH src AS (${resolvedRowsSql({ paths, positioned }, where)}), ` +
      `ord AS (SELECT *, (row_number() OVER (ORDER BY tid_hi, tid_lo, start_us, sid, bseq) - 1) AS rn FROM src), ` +
      `firsts AS (SELECT tid_hi, tid_lo, sid, min(rn) AS prn FROM ord GROUP BY ALL) ` +
      `SELECT o.* EXCLUDE (pid, rn), CASE WHEN f.prn IS NULL THEN o.pid END AS pid, (o.rn - f.prn)::INTEGER AS pdelta ` +
      `FROM ord o LEFT JOIN firsts f ON f.tid_hi = o.tid_hi AND f.tid_lo = o.tid_lo AND f.sid = o.pid ORDER BY o.rn) ` +
      `TO ${quote(output)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${COMPACTED_ROW_GROUP})`,
  );
  const key = `printf('%016x%016x', tid_hi, tid_lo)`;
  const row = (
    await c.runAndReadAll(
      `SELECT count(*)::DOUBLE, min(${key}), max(${key}), min(arrived_us)::DOUBLE, max(arrived_us)::DOUBLE, min(bseq)::DOUBLE, max(bseq)::DOUBLE, max(start_us)::DOUBLE ` +
        `FROM read_parquet(${quote(output)})`,
    )
  ).getRowsJS()[0]!;
  const rows = row[0] as number;
  if (rows === 0) {
    await unlink(output);
    return undefined;
  }
  await syncFile(output);
  const summaries = traceSummariesPath(output);
  await writeTraceSummaries(c, output, summaries);
  const file: BlockFile = {
    name,
    rows,
    bytes: (await stat(output)).size + (await stat(summaries)).size,
    level: 1,
    minKey: row[1] as string,
    maxKey: row[2] as string,
    minArrived: row[3] as number,
    maxArrived: row[4] as number,
    minBseq: row[5] as number,
    maxBseq: row[6] as number,
    maxStart: row[7] as number,
    slots: inputs.reduce((m, f) => Math.max(m, f.slots), 0),
    tombApplied: options.tombApplied,
    format: 2,
    traces: true,
  };
  const restKeys = mergedRestKeys(inputs);
  if (restKeys !== undefined) file.restKeys = restKeys;
  return file;
}

/** The per-file trace summaries beside block file `path` (see `writeTraceSummaries`). */
export function traceSummariesPath(path: string): string {
  return `${path}${TRACE_SUMMARIES_SUFFIX}`;
}

export const TRACE_SUMMARIES_SUFFIX = '.traces.parquet';

/**
 * Writes (and fsyncs) the trace summaries of block file `input` to `output`: one row per trace of
 * the file, the columns of the embedded store's `trace_summaries` (computed by the same select, so
 * the same merge of records), the trace id as `tid_hi`, `tid_lo`, sorted by it. A search takes the
 * summaries of its hits from here instead of reading their records (20 hits sit in up to 20 row
 * groups of every column they need). Exact for a trace whose records are all in this one file and
 * that no later tombstone touches; the reader checks both.
 */
export async function writeTraceSummaries(c: DuckDBConnection, input: string, output: string): Promise<void> {
  await c.run(
    `COPY (SELECT (tid >> 64)::UBIGINT AS tid_hi, (tid & 18446744073709551615::UHUGEINT)::UBIGINT AS tid_lo, * EXCLUDE (tid) ` +
      `FROM (${fileSummariesSql(input, true)}) ORDER BY tid_hi, tid_lo) ` +
      `TO ${quote(output)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  await syncFile(output);
}

/**
 * The trace summaries of the records of one block file (`trace_summaries` columns, `tid`), no
 * tombstone applied (a reader checks them). `positioned`: the file is of format 2.
 */
export function fileSummariesSql(path: string, positioned: boolean): string {
  const records = spansRelationSql({ paths: [path], positioned }, { tombstones: false, parentPresence: true });
  return summarySelect(undefined, `(${records})`);
}
