/**
 * DuckDB rewriting block files: compaction (many micro-blocks → one sorted, zstd-compressed file)
 * and retention (a file straddling the cutoff → the part to keep). DuckDB's native Parquet writer
 * does the heavy work off the JS thread; the output is fsynced before any manifest names it.
 */
import { stat, unlink } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { NOT_TOMBSTONED, resolvedRowsSql } from './block-relation.js';
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
  return {
    name,
    rows,
    bytes: (await stat(output)).size,
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
  };
}
