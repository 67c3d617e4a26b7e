import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import { DATABASE_FILE } from '../src/embedded/schema.js';
import { sortForCompare, span, spanIdOf, T0, traceIdOf } from '../src/contract/contract-spans.js';

const DAY_MS = 86_400_000;
/** 2026-12-01: the spans' own times (T0, 2024) are years older. */
const NOW_MS = 1_796_083_200_000;

async function arrivalColumns(dir: string): Promise<string[]> {
  const db = await DuckDBInstance.create(join(dir, DATABASE_FILE));
  const c = await db.connect();
  try {
    const rows = (await c.runAndReadAll(`SELECT table_name FROM duckdb_columns() WHERE column_name = 'arrived_us' ORDER BY table_name`)).getRowsJS();
    return rows.map((r) => r[0] as string);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

void test('a data file made before arrival times opens, keeps its records one retention period from the migration, and takes new writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lt-arrival-migration-'));
  let nowMs = NOW_MS - 30 * DAY_MS;
  const clock = (): number => nowMs;
  try {
    const producer = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0), service: 'shop', kind: 'producer', startUs: T0 });
    const consumer = span({
      traceId: traceIdOf(2),
      spanId: spanIdOf(2, 0),
      service: 'billing',
      kind: 'consumer',
      startUs: T0 + 10,
      links: [{ traceId: producer.traceId, spanId: producer.spanId, attributes: {} }],
      attributes: { 'order.id': 'o-1' },
    });
    let store = await openEmbeddedStore({ dataDir: dir, clock });
    await store.writeSpans([producer, consumer]);
    await store.close();

    // What the previous version left: the same tables without the arrival column (its DDL exactly:
    // the column is the only difference, so dropping it restores the old layout with real rows).
    const old = await DuckDBInstance.create(join(dir, DATABASE_FILE));
    const c = await old.connect();
    await c.run(`ALTER TABLE spans DROP COLUMN arrived_us`);
    await c.run(`ALTER TABLE span_links DROP COLUMN arrived_us`);
    c.closeSync();
    old.closeSync();
    assert.deepStrictEqual(await arrivalColumns(dir), []);

    // Opened by this version on NOW: the old records count as arrived now, so nothing goes at once.
    nowMs = NOW_MS;
    store = await openEmbeddedStore({ dataDir: dir, clock });
    try {
      assert.deepStrictEqual(await store.deleteBefore((nowMs - 7 * DAY_MS) * 1000), { spans: 0, findings: 0, sdkDropReports: 0 });
      assert.deepStrictEqual(await store.getTrace(producer.traceId), [producer]);
      assert.deepStrictEqual(await store.dependencies(0, T0 + 1_000_000), [{ parent: 'shop', child: 'billing', callCount: 1, errorCount: 0 }]);
      nowMs += 2 * DAY_MS;
      const fresh = span({ traceId: traceIdOf(3), spanId: spanIdOf(3, 0), startUs: T0 + 20, attributes: { 'order.id': 'o-2' } });
      await store.writeSpans([fresh]);
      // A day after the migration's time: the migrated records go, the one written since stays.
      assert.deepStrictEqual(await store.deleteBefore((NOW_MS + DAY_MS) * 1000), { spans: 2, findings: 0, sdkDropReports: 0 });
      assert.deepStrictEqual(sortForCompare(await store.getTraces([producer.traceId, consumer.traceId, fresh.traceId]).then((t) => t.flat())), [fresh]);
      assert.deepStrictEqual(await store.dependencies(0, T0 + 1_000_000), [], 'the link index went with its span');
    } finally {
      await store.close();
    }
    assert.deepStrictEqual(await arrivalColumns(dir), ['span_links', 'spans']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
