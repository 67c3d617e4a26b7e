/**
 * Where the store's bytes go, measured on its DuckDB file after the server has stopped (opened
 * read-only, so nothing is written to it): the same spans written as Parquet with zstd (the
 * format Tempo stores, as a peer figure on identical data), and the file's bytes per column of
 * `spans`, summed into column groups.
 *
 * DuckDB's `pragma_storage_info` has no segment size, only where each segment starts (block id and
 * offset; a large segment owns more blocks). A segment's size is taken as the distance to the next
 * segment in its block (of any table), or to the block's end, plus its other whole blocks: the
 * free tail of a block is charged to its last segment, so the columns plus the rest add up to the
 * file.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Column groups (JSON key, label, test); a column of `spans` not named here is in `other_columns`. */
const GROUPS: readonly [string, string, (column: string) => boolean][] = [
  ['ids', 'ids (trace, span, parent, rpcid)', (c) => ['tid', 'tid_hi', 'tid_lo', 't64', 'sid', 'pid', 'rpcid'].includes(c)],
  ['times', 'times (start, duration, arrival)', (c) => ['start_us', 'duration_us', 'arrived_us', 'bseq'].includes(c)],
  ['names', 'names, services, kinds, status', (c) => ['service', 'instance', 'name', 'kind', 'status', 'kinds', 'scope_name', 'scope_version', 'remote_service', 'side'].includes(c)],
  ['attributes', 'attributes (promoted columns, rest, resource, scope)', (c) => /^a\d+$/.test(c) || ['rest', 'resource', 'scope_attrs'].includes(c)],
];
const OTHER_COLUMNS: [string, string] = ['other_columns', 'other columns (status message, events/links JSON)'];
const OTHER_TABLES: [string, string] = ['other_tables', 'other tables, metadata'];
/** Blocks DuckDB keeps in the file but no longer uses (it does not shrink the file). */
const FREE_BLOCKS: [string, string] = ['free_blocks', 'free blocks (DuckDB reuses them, the file keeps them)'];

export interface ColumnGroup {
  /** Short name for the JSON keys. */
  key: string;
  label: string;
  bytes: number;
}

export interface StoreBytes {
  /** Bytes of the Parquet file (zstd) holding every row and column of `spans`. */
  parquetZstdBytes: number;
  parquetSeconds: number;
  /** Bytes of the store file by column group; the groups add up to the file. */
  groups: ColumnGroup[];
  /** Column (attribute columns by their key) → bytes, largest first. */
  columns: [string, number][];
  fileBytes: number;
}

async function rows(connection: Awaited<ReturnType<DuckDBInstance['connect']>>, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

export async function measureStoreBytes(dbFile: string, parquetFile: string): Promise<StoreBytes> {
  const instance = await DuckDBInstance.create(dbFile, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const size = (await rows(connection, 'SELECT block_size, free_blocks FROM pragma_database_size()'))[0]!;
    const blockSize = Number(size.block_size);
    const freeBytes = Number(size.free_blocks) * blockSize;
    const tables = (await rows(connection, "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()")).map((r) => String(r.table_name));
    const segments = tables.map((t) => `SELECT '${t.replaceAll("'", "''")}' AS tbl, column_name, block_id, block_offset, len(additional_block_ids) AS more FROM pragma_storage_info('${t.replaceAll("'", "''")}') WHERE block_id >= 0`).join(' UNION ALL ');
    const perColumn = await rows(
      connection,
      `WITH s AS (${segments}),
       sized AS (SELECT tbl, column_name, coalesce(lead(block_offset) OVER (PARTITION BY block_id ORDER BY block_offset), ${blockSize}) - block_offset + more * ${blockSize} AS bytes FROM s)
       SELECT column_name, sum(bytes)::BIGINT AS bytes FROM sized WHERE tbl = 'spans' GROUP BY column_name ORDER BY bytes DESC`,
    );
    const keys = new Map((await rows(connection, 'SELECT slot, key FROM attribute_columns')).map((r) => [`a${String(r.slot)}`, String(r.key)]));
    const fileBytes = statSync(dbFile).size;
    const groups: ColumnGroup[] = [...GROUPS, OTHER_COLUMNS, OTHER_TABLES, FREE_BLOCKS].map(([key, label]) => ({ key, label, bytes: 0 }));
    const group = (key: string): ColumnGroup => groups.find((g) => g.key === key)!;
    let columnsTotal = 0;
    const columns: [string, number][] = [];
    for (const r of perColumn) {
      const column = String(r.column_name);
      const bytes = Number(r.bytes);
      group(GROUPS.find(([, , test]) => test(column))?.[0] ?? OTHER_COLUMNS[0]).bytes += bytes;
      columnsTotal += bytes;
      columns.push([keys.has(column) ? `${column} (${keys.get(column)!})` : column, bytes]);
    }
    group(FREE_BLOCKS[0]).bytes = Math.min(freeBytes, Math.max(0, fileBytes - columnsTotal));
    group(OTHER_TABLES[0]).bytes = Math.max(0, fileBytes - columnsTotal - group(FREE_BLOCKS[0]).bytes);

    const t0 = performance.now();
    // Parquet has no 128-bit integer: the trace id goes as its two 64-bit halves (16 bytes, as
    // Tempo's fixed-length id). Every other column as stored, rows in store order.
    await connection.run(
      `COPY (SELECT (tid >> 64)::UBIGINT AS tid_hi, (tid & 18446744073709551615::UHUGEINT)::UBIGINT AS tid_lo, * EXCLUDE (tid) FROM spans) ` +
        `TO '${parquetFile.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const parquetSeconds = (performance.now() - t0) / 1000;
    return { parquetZstdBytes: statSync(parquetFile).size, parquetSeconds, groups, columns, fileBytes };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * The same figures for the block store (`serve --store-format blocks`): its spans are Parquet files already,
 * so the bytes per column are the files' column chunks (Parquet metadata); everything else in the
 * data directory (the small DuckDB file, the manifest) is `other tables`. The peer figure is the
 * same COPY to one Parquet file with zstd.
 */
export async function measureBlockStoreBytes(dataDir: string, parquetFile: string, otherBytes: number): Promise<StoreBytes> {
  const blocksDir = join(dataDir, 'blocks');
  const files = readdirSync(blocksDir).filter((f) => f.endsWith('.parquet')).map((f) => join(blocksDir, f));
  const list = `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const perColumn = await rows(connection, `SELECT path_in_schema AS column_name, sum(total_compressed_size)::BIGINT AS bytes FROM parquet_metadata(${list}) GROUP BY 1 ORDER BY 2 DESC`);
    const db = await DuckDBInstance.create(join(dataDir, 'linktrace-blocks.duckdb'), { access_mode: 'READ_ONLY' });
    let keys: Map<string, string>;
    try {
      const c = await db.connect();
      keys = new Map((await rows(c, 'SELECT slot, key FROM attribute_columns')).map((r) => [`a${String(r.slot)}`, String(r.key)]));
      c.closeSync();
    } finally {
      db.closeSync();
    }
    const groups: ColumnGroup[] = [...GROUPS, OTHER_COLUMNS, OTHER_TABLES, FREE_BLOCKS].map(([key, label]) => ({ key, label, bytes: 0 }));
    const group = (key: string): ColumnGroup => groups.find((g) => g.key === key)!;
    const parquetBytes = files.reduce((n, f) => n + statSync(f).size, 0);
    let columnsTotal = 0;
    const columns: [string, number][] = [];
    for (const r of perColumn) {
      const column = String(r.column_name).split(/[,.]/)[0]!.trim();
      const bytes = Number(r.bytes);
      group(GROUPS.find(([, , test]) => test(column))?.[0] ?? OTHER_COLUMNS[0]).bytes += bytes;
      columnsTotal += bytes;
      columns.push([keys.has(column) ? `${column} (${keys.get(column)!})` : column, bytes]);
    }
    // Parquet page headers, dictionaries' framing and footers count with the other tables.
    group(OTHER_TABLES[0]).bytes = Math.max(0, parquetBytes - columnsTotal) + otherBytes;
    const t0 = performance.now();
    await connection.run(
      `COPY (SELECT * FROM read_parquet(${list}, union_by_name = true)) TO '${parquetFile.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const parquetSeconds = (performance.now() - t0) / 1000;
    return { parquetZstdBytes: statSync(parquetFile).size, parquetSeconds, groups, columns, fileBytes: parquetBytes + otherBytes };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
