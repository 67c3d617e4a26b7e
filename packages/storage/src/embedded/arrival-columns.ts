/**
 * The `arrived_us` column of `spans` and `span_links` (see ARRIVED_COLUMN in schema.ts), added to a
 * file made before it. Its records are given the time of the migration as their arrival: nothing a
 * user already has is deleted at once by the new rule, and it all lives one retention period more.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ARRIVED_COLUMN } from './schema.js';

const TABLES = ['spans', 'span_links'] as const;

/** Adds the column where it is missing (one transaction); `nowUs` is what the existing records get. */
export async function ensureArrivalColumns(writer: DuckDBConnection, nowUs: number): Promise<void> {
  if (!Number.isSafeInteger(nowUs)) throw new RangeError(`embedded store: arrival time ${nowUs} is not an integer of µs`);
  const present = new Set(
    (
      await writer.runAndReadAll(
        `SELECT table_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND column_name = '${ARRIVED_COLUMN}'`,
      )
    )
      .getRowsJS()
      .map((r) => r[0] as string),
  );
  const missing = TABLES.filter((t) => !present.has(t));
  if (missing.length === 0) return;
  await writer.run('BEGIN TRANSACTION');
  try {
    for (const table of missing) {
      // The default fills the existing rows; it is dropped at once so that every later insert must
      // say when its rows arrived.
      await writer.run(`ALTER TABLE ${table} ADD COLUMN ${ARRIVED_COLUMN} BIGINT DEFAULT ${nowUs}`);
      await writer.run(`ALTER TABLE ${table} ALTER COLUMN ${ARRIVED_COLUMN} DROP DEFAULT`);
    }
    await writer.run('COMMIT');
  } catch (err) {
    await writer.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
