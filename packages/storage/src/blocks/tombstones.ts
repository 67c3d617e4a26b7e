/**
 * Tombstones: `deleteTraces` (tail sampling) on immutable files. A tombstone (trace id, `upto`)
 * hides every record of the trace written in micro-block `upto` or earlier (`bseq` ≤ upto), so a
 * record of the trace written later is not hidden. Reads filter them out (block-relation.ts);
 * compaction and retention rewrites leave the covered records out of their output. A tombstone
 * is numbered (`tseq`); a file records up to which number tombstones are applied to it, and a
 * tombstone is dropped once no file still read (live, or swapped out under a running query) can hold
 * a record it covers.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BlockFile } from './manifest.js';

export const TOMBSTONES_TABLE = `CREATE TABLE IF NOT EXISTS tombstones (hi UBIGINT NOT NULL, lo UBIGINT NOT NULL, upto BIGINT NOT NULL, tseq BIGINT NOT NULL)`;

/** The `meta` key of the last tombstone number (kept when the tombstones themselves are dropped). */
const LAST_KEY = 'last_tombstone';

/**
 * Trace keys (32 hex) → tombstones covering records up to micro-block `upto`, numbered one past the
 * last number. Run inside the caller's transaction; returns the number.
 */
export async function addTombstones(writer: DuckDBConnection, keys: readonly string[], upto: number): Promise<number> {
  const tseq = (await lastTombstone(writer)) + 1;
  // The keys are validated hex: split in SQL from one text parameter.
  await writer.run(
    `INSERT INTO tombstones SELECT ('0x' || substr(k, 1, 16))::UBIGINT, ('0x' || substr(k, 17, 16))::UBIGINT, $1, $2 ` +
      `FROM (SELECT unnest(string_split($3, ',')) AS k)`,
    [upto, tseq, keys.join(',')],
  );
  await writer.run(`INSERT OR REPLACE INTO meta VALUES ('${LAST_KEY}', $1)`, [String(tseq)]);
  return tseq;
}

/** Drops the tombstones no live file can hold a covered record of; returns how many are left. */
export async function dropSpentTombstones(writer: DuckDBConnection, files: readonly BlockFile[]): Promise<number> {
  // A file holds no record a tombstone covers when the tombstone was applied to it, or when all its
  // records were written after the tombstone's last micro-block.
  const spent = files.map((f) => `(tseq <= ${f.tombApplied} OR upto < ${f.minBseq})`);
  await writer.run(`DELETE FROM tombstones WHERE ${spent.length === 0 ? 'true' : spent.join(' AND ')}`);
  return (await writer.runAndReadAll(`SELECT count(*)::DOUBLE FROM tombstones`)).getRowsJS()[0]![0] as number;
}

/** The highest tombstone number given so far (0: none). */
export async function lastTombstone(writer: DuckDBConnection): Promise<number> {
  const rows = (await writer.runAndReadAll(`SELECT value FROM meta WHERE key = '${LAST_KEY}'`)).getRowsJS();
  return rows.length === 0 ? 0 : Number(rows[0]![0]);
}
