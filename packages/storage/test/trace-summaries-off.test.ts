/**
 * An embedded store without `trace_summaries` (`traceSummaries: false`, the federated agent's):
 * its writes leave the table empty, its searches still answer the same hits (computed from the
 * records), retention still drops exactly the findings of traces with no record left, and opening
 * the file with summaries again rebuilds the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import { DATABASE_FILE } from '../src/embedded/schema.js';
import { span, spanIdOf, startRecordOf, T0, traceIdOf } from '../src/contract/contract-spans.js';

async function summaryTable(dir: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(join(dir, DATABASE_FILE));
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(`SELECT (SELECT count(*) FROM trace_summaries)::DOUBLE, (SELECT value FROM meta WHERE key = 'trace_summaries')`)).getRowsJS();
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

void test('without trace_summaries: same search hits, retention keeps the findings of traces left, a later open rebuilds it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lt-summaries-off-'));
  try {
    let nowMs = 1_000_000;
    const clock = (): number => nowMs;
    const a = traceIdOf(7);
    const b = traceIdOf(8);
    const root = span({ traceId: a, spanId: spanIdOf(7, 0), service: 'gateway', name: 'GET /', kind: 'server', startUs: T0, durationUs: 4_000 });
    const child = span({ traceId: a, spanId: spanIdOf(7, 1), parentSpanId: root.spanId, service: 'db', startUs: T0 + 500, durationUs: 8_000, status: { code: 'error' } });
    const other = span({ traceId: b, spanId: spanIdOf(8, 0), service: 'db', name: 'GET /b', kind: 'server', startUs: T0 + 10_000, durationUs: 1_000 });
    const hitA = { traceId: a, startUs: T0, durationUs: 8_500, spanCount: 2, errorCount: 1, services: ['db', 'gateway'], root: { service: 'gateway', name: 'GET /' }, findingCount: 0 };
    const hitB = { traceId: b, startUs: T0 + 10_000, durationUs: 1_000, spanCount: 1, errorCount: 0, services: ['db'], root: { service: 'db', name: 'GET /b' }, findingCount: 0 };

    let store = await openEmbeddedStore({ dataDir: dir, clock, traceSummaries: false });
    try {
      // Trace a arrives first (a start record, then its end record in a later batch), trace b later.
      await store.writeSpans([root, startRecordOf(child)]);
      await store.writeSpans([child]);
      nowMs += 60_000;
      await store.writeSpans([other]);
      assert.deepStrictEqual(await store.findTraces({ service: 'db' }), [hitB, hitA]);
      assert.deepStrictEqual(await store.findTraces({ service: 'gateway' }), [hitA]);
      await store.writeFindings([
        { traceId: a, rule: 'unfinished-span', service: 'db', spanId: child.spanId, message: 'm', timeUs: T0 },
        { traceId: b, rule: 'unfinished-span', service: 'db', spanId: other.spanId, message: 'm', timeUs: T0 },
      ]);
    } finally {
      await store.close();
    }
    assert.deepStrictEqual(await summaryTable(dir), [[0, null]], 'writes left the table empty and unmarked');

    // Retention of what arrived before b: trace a and its finding go, b's finding stays.
    store = await openEmbeddedStore({ dataDir: dir, clock, traceSummaries: false });
    try {
      const removed = await store.deleteBefore((nowMs - 30_000) * 1000);
      assert.equal(removed.spans, 3);
      assert.equal(removed.findings, 1);
      assert.deepStrictEqual((await store.findFindings()).map((f) => f.traceId), [b]);
      assert.deepStrictEqual(await store.findTraces({ service: 'db' }), [{ ...hitB, findingCount: 1 }]);
    } finally {
      await store.close();
    }

    // Opened with summaries again (as `serve` or `linktrace search` would): rebuilt from the records.
    store = await openEmbeddedStore({ dataDir: dir, clock, log: () => {} });
    try {
      assert.deepStrictEqual(await store.findTraces({ service: 'db' }), [{ ...hitB, findingCount: 1 }]);
    } finally {
      await store.close();
    }
    assert.deepStrictEqual(await summaryTable(dir), [[1, '1']]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
