import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { measureStoreBytes, type StoreBytes } from '../src/ingest-store-bytes.js';

const ROWS = 50_000;

describe('measureStoreBytes (bench:ingest)', () => {
  let dir: string;
  let measured: StoreBytes;
  let parquet: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-store-bytes-'));
    const file = join(dir, 'store.duckdb');
    parquet = join(dir, 'spans.parquet');
    // A small file with the store's column names: ids, times, a name, one promoted attribute, extra.
    const instance = await DuckDBInstance.create(file);
    const c = await instance.connect();
    await c.run(`CREATE TABLE spans (tid UHUGEINT NOT NULL, sid UBIGINT NOT NULL, pid UBIGINT, start_us BIGINT NOT NULL, service VARCHAR NOT NULL, a0 VARCHAR, extra VARCHAR)`);
    await c.run(`CREATE TABLE attribute_columns (slot INTEGER PRIMARY KEY, key VARCHAR NOT NULL)`);
    await c.run(`INSERT INTO attribute_columns VALUES (0, 'user.id')`);
    await c.run(
      `INSERT INTO spans SELECT ((i // 16)::UHUGEINT << 64) | 12345::UHUGEINT, hash(i), CASE WHEN i % 16 = 0 THEN NULL ELSE hash(i - 1) END, ` +
        `1790000000000000 + i * 1000, 'svc-' || (i % 7), 'u-' || hash(i * 3) % 100000, NULL FROM range(${ROWS}) t(i)`,
    );
    await c.run('CHECKPOINT');
    c.closeSync();
    instance.closeSync();
    measured = await measureStoreBytes(file, parquet);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('splits the whole file into column groups that add up to it', () => {
    assert.equal(measured.fileBytes, statSync(join(dir, 'store.duckdb')).size);
    assert.equal(measured.groups.reduce((n, g) => n + g.bytes, 0), measured.fileBytes);
    const bytes = (key: string): number => measured.groups.find((g) => g.key === key)!.bytes;
    // Random 64-bit span and parent ids cannot compress below ~8 bytes a row each.
    assert.ok(bytes('ids') >= ROWS * 14, `ids ${bytes('ids')}`);
    assert.ok(bytes('times') > 0 && bytes('names') > 0 && bytes('attributes') > 0);
    assert.deepEqual(measured.groups.map((g) => g.key), ['ids', 'times', 'names', 'attributes', 'other_columns', 'other_tables', 'free_blocks']);
  });

  it('names promoted attribute columns by their key', () => {
    assert.ok(measured.columns.some(([name]) => name === 'a0 (user.id)'));
    assert.ok(measured.columns.some(([name]) => name === 'sid'));
  });

  it('writes every row to Parquet with the trace id as two 64-bit halves', async () => {
    assert.equal(measured.parquetZstdBytes, statSync(parquet).size);
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT tid_hi)::INTEGER AS traces, min(tid_lo)::INTEGER AS lo FROM read_parquet('${parquet}')`)).getRowObjects();
    c.closeSync();
    instance.closeSync();
    assert.deepEqual(rows[0], { n: ROWS, traces: ROWS / 16 + (ROWS % 16 === 0 ? 0 : 1), lo: 12345 });
  });
});
