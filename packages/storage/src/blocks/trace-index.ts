/**
 * Which trace ids each block file holds, kept in memory: per file the sorted distinct high halves
 * (`tid_hi`) of its trace ids, 8 bytes per trace and file. A trace lookup reads only the files
 * that may hold the id. The files' key ranges alone do that for our time-prefixed ids once files
 * are compacted, but not for the micro-blocks waiting for compaction (each spans the recent ids),
 * nor for foreign random ids (every file's range covers nearly every id). A high half shared by two
 * traces only makes a file read for nothing; a file not indexed yet is always read.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export class TraceIndex {
  private readonly his = new Map<string, BigUint64Array>();

  set(name: string, his: BigUint64Array): void {
    this.his.set(name, his);
  }

  drop(name: string): void {
    this.his.delete(name);
  }

  has(name: string): boolean {
    return this.his.has(name);
  }

  /** False only when the file is indexed and holds no trace id whose high half is `hi`. */
  mayHold(name: string, hi: bigint): boolean {
    const his = this.his.get(name);
    if (his === undefined) return true;
    let lo = 0;
    let up = his.length;
    while (lo < up) {
      const mid = (lo + up) >>> 1;
      if (his[mid]! < hi) lo = mid + 1;
      else up = mid;
    }
    return lo < his.length && his[lo] === hi;
  }
}

/** The distinct values of a sorted array. */
export function distinctSorted(sorted: BigUint64Array): BigUint64Array {
  let n = 0;
  const out = new BigUint64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) out[n++] = sorted[i]!;
  return out.slice(0, n);
}

/** The index entry of a file written by DuckDB (compaction, retention) or found at open. */
export async function readTraceIndex(c: DuckDBConnection, path: string): Promise<BigUint64Array> {
  const rows = (await c.runAndReadAll(`SELECT DISTINCT tid_hi FROM read_parquet('${path.replace(/'/g, "''")}') ORDER BY 1`)).getRowsJS();
  const out = new BigUint64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rows[i]![0] as bigint;
  return out;
}
