/**
 * Measures the ClickHouse backend on the bench's realistic spans (ingest-traces.ts): µs of
 * ClickHouse server CPU per span for the inserts, spans/s, and bytes per span on disk, per table
 * and for the `record` column; then PROJECTS what current ClickHouse's ZSTD codec would give for
 * the largest columns by compressing their data with `zstd -1` in 1 MiB blocks (ClickHouse's
 * default ZSTD level and max block size) next to `lz4` (what 18.16 uses). Not a test; after a build:
 *   node bench/dist/src/clickhouse-store.js [spans=200000] [batch=5000]
 * Starts its own clickhouse-server (Debian's 18.16 here). Prints a table, then one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { openClickHouseStore } from '@linktrace/storage';
import { ClickHouseHttp, encodeRecord, searchPairs, traceKey } from '@linktrace/storage/clickhouse-testing';
import { startLocalClickHouse } from '@linktrace/storage/clickhouse-testing';
import type { Span } from '@linktrace/model';
import { TraceGenerator } from './ingest-traces.js';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 5000);

const server = await startLocalClickHouse();
const client = new ClickHouseHttp({ url: server.httpUrl }, 'm');
const sql = (query: string): Promise<string> => client.text(query);
try {
  const store = await openClickHouseStore({ endpoint: { url: server.httpUrl }, database: 'm' });
  const gen = new TraceGenerator({ seed: 7, startUs: 1_765_000_000_000_000, traceGapUs: 2000 });
  const batches: Span[][] = [];
  let made = 0;
  let batch: Span[] = [];
  while (made < total) {
    made += gen.next(batch);
    if (batch.length >= batchSize) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  const spans = batches.reduce((n, b) => n + b.length, 0);

  const cpu0 = await server.cpuSeconds();
  const t0 = performance.now();
  // Two calls in flight, like a server's pipeline: the store group-commits what waits.
  for (let i = 0; i < batches.length; i += 2) await Promise.all(batches.slice(i, i + 2).map((b) => store.writeSpans(b)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await server.cpuSeconds()) - cpu0;
  // Merged parts, as a running server's would be after a while (and what bytes/span is about).
  await sql('OPTIMIZE TABLE spans FINAL');
  await sql('OPTIMIZE TABLE span_index FINAL');
  await sql('OPTIMIZE TABLE trace_summaries FINAL');
  const tables = (await sql(`SELECT table, sum(bytes) FROM system.parts WHERE database = 'm' AND active GROUP BY table FORMAT TabSeparated`))
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .map(([t, b]) => ({ table: t!, bytes: Number(b) }));
  const columns = (
    await sql(
      `SELECT table, name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns WHERE database = 'm' AND table IN ('spans', 'span_index') ORDER BY data_compressed_bytes DESC FORMAT TabSeparated`,
    )
  )
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .map(([t, n, c, u]) => ({ table: t!, column: n!, compressed: Number(c), uncompressed: Number(u) }));

  // Projection: the two largest columns' data as ClickHouse stores it (in ORDER BY order, strings
  // length-prefixed), made here from the same spans, in 1 MiB blocks through lz4 -1 and zstd -1.
  const rows = batches
    .flat()
    .map((s) => ({ key: `${traceKey(s.traceId)}\n${String(s.startUs).padStart(17, '0')}\n${s.spanId}`, s }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const columnData: Record<string, Buffer[]> = { record: [], attr_kv: [] };
  for (const { s } of rows) {
    columnData.record!.push(Buffer.from(encodeRecord(s)));
    columnData.attr_kv!.push(Buffer.from(searchPairs(s).join('\0')));
  }
  const projected: Record<string, { lz4: number; zstd1: number }> = {};
  for (const [column, parts] of Object.entries(columnData)) {
    const raw = Buffer.concat(parts.flatMap((b) => [Buffer.from([b.length & 0x7f, b.length >> 7]), b]));
    let lz4 = 0;
    let zstd1 = 0;
    for (let off = 0; off < raw.length; off += 1 << 20) {
      const block = raw.subarray(off, off + (1 << 20));
      lz4 += execFileSync('lz4', ['-1', '-c'], { input: block, maxBuffer: 1 << 26 }).length;
      zstd1 += execFileSync('zstd', ['-1', '-c'], { input: block, maxBuffer: 1 << 26 }).length;
    }
    projected[column] = { lz4, zstd1 };
  }
  await store.close();

  const bytes = (t: string): number => tables.find((x) => x.table === t)?.bytes ?? 0;
  const result = {
    spans,
    batch: batchSize,
    spans_per_s: Math.round(spans / seconds),
    server_cpu_us_per_span: Number(((cpu * 1e6) / spans).toFixed(2)),
    bytes_per_span_spans: Number((bytes('spans') / spans).toFixed(1)),
    bytes_per_span_span_index: Number((bytes('span_index') / spans).toFixed(1)),
    bytes_per_span_trace_summaries: Number((bytes('trace_summaries') / spans).toFixed(1)),
    // Every table of the database (findings and SDK drops are empty here).
    bytes_per_span_total: Number((tables.reduce((n, t) => n + t.bytes, 0) / spans).toFixed(1)),
  };
  console.log(`ClickHouse ${(await sql('SELECT version()')).trim()}: ${spans} realistic spans, batches of ${batchSize}`);
  console.log(`  ${result.spans_per_s} spans/s, ${result.server_cpu_us_per_span} µs server CPU/span`);
  console.log(`  on disk (B/span): ${tables.map((t) => `${t.table} ${(t.bytes / spans).toFixed(1)}`).join(', ')}; total ${result.bytes_per_span_total}`);
  console.log('  largest columns (compressed / uncompressed B per span):');
  for (const c of columns.slice(0, 8)) console.log(`    ${c.table}.${c.column}: ${(c.compressed / spans).toFixed(1)} / ${(c.uncompressed / spans).toFixed(1)}`);
  console.log('  projection, 1 MiB blocks of the column data (B per span): lz4 -1 | zstd -1');
  let projectedSaving = 0;
  for (const [col, p] of Object.entries(projected)) {
    console.log(`    spans.${col}: ${(p.lz4 / spans).toFixed(1)} | ${(p.zstd1 / spans).toFixed(1)}`);
    // ZSTD saves this share of what LZ4 takes; applied to the column as stored (spans and, for attr_kv, span_index).
    const share = 1 - p.zstd1 / p.lz4;
    for (const c of columns.filter((x) => x.column === col)) projectedSaving += c.compressed * share;
  }
  const projectedTotal = (tables.reduce((n, t) => n + t.bytes, 0) - projectedSaving) / spans;
  console.log(JSON.stringify({ ...result, projected_zstd_bytes_per_span_total: Number(projectedTotal.toFixed(1)) }));
} finally {
  await server.stop();
}
