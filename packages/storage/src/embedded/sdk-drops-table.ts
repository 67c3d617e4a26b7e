/**
 * The embedded store's SDK drop reports: one row per (service, instance), the latest report winning.
 * A handful of rows (one per traced process), so plain upserts suffice.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SdkDropReport } from '../types.js';

export const CREATE_SDK_DROPS =
  `CREATE TABLE IF NOT EXISTS sdk_drops (service VARCHAR NOT NULL, instance VARCHAR NOT NULL, ` +
  `dropped_spans BIGINT NOT NULL, reported_us BIGINT NOT NULL, PRIMARY KEY (service, instance))`;

/** The latest report per key of `reports` (a batch may hold several reports of one instance). */
function latestPerKey(reports: readonly SdkDropReport[]): SdkDropReport[] {
  const latest = new Map<string, SdkDropReport>();
  for (const r of reports) {
    const key = `${r.service}\u0000${r.instance}`;
    const seen = latest.get(key);
    if (seen === undefined || r.reportedUs >= seen.reportedUs) latest.set(key, r);
  }
  return [...latest.values()];
}

export async function upsertSdkDrops(writer: DuckDBConnection, reports: readonly SdkDropReport[]): Promise<void> {
  for (const r of latestPerKey(reports)) {
    // A report received earlier than the stored one (a replayed log, a slow collector) does not win.
    await writer.run(
      `INSERT INTO sdk_drops VALUES ($1, $2, $3, $4) ON CONFLICT (service, instance) DO UPDATE ` +
        `SET dropped_spans = excluded.dropped_spans, reported_us = excluded.reported_us WHERE excluded.reported_us >= sdk_drops.reported_us`,
      [r.service, r.instance, r.droppedSpans, Math.floor(r.reportedUs)],
    );
  }
}

/** Retention: removes the reports received before `us` (µs); returns how many. */
export async function deleteSdkDropsBefore(writer: DuckDBConnection, us: number): Promise<number> {
  return (await writer.run(`DELETE FROM sdk_drops WHERE reported_us < $1`, [us])).rowsChanged;
}

export const SDK_DROPS_SQL = `SELECT service, instance, dropped_spans::DOUBLE, reported_us::DOUBLE FROM sdk_drops ORDER BY service, instance`;

export function sdkDropFromRow(r: readonly unknown[]): SdkDropReport {
  return { service: r[0] as string, instance: r[1] as string, droppedSpans: r[2] as number, reportedUs: r[3] as number };
}
