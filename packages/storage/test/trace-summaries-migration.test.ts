import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import { DATABASE_FILE } from '../src/embedded/schema.js';
import { span, spanIdOf, startRecordOf, T0, traceIdOf } from '../src/contract/contract-spans.js';

void test('a data file made before trace_summaries gets it built from its spans on open, once, with progress lines only for a large store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lt-summary-migration-'));
  try {
    const tid = traceIdOf(7);
    const root = span({ traceId: tid, spanId: spanIdOf(7, 0), service: 'gateway', name: 'GET /', kind: 'server', startUs: T0, durationUs: 4_000 });
    const child = span({ traceId: tid, spanId: spanIdOf(7, 1), parentSpanId: root.spanId, service: 'db', startUs: T0 + 500, durationUs: 8_000, status: { code: 'error' } });
    let store = await openEmbeddedStore({ dataDir: dir, log: () => assert.fail('an empty store builds nothing') });
    await store.writeSpans([root, startRecordOf(child)]);
    await store.writeSpans([child]);
    await store.close();

    // What an older version left: no summary table, no marker.
    const old = await DuckDBInstance.create(join(dir, DATABASE_FILE));
    const c = await old.connect();
    await c.run(`DROP TABLE trace_summaries`);
    await c.run(`DELETE FROM meta WHERE key = 'trace_summaries'`);
    c.closeSync();
    old.closeSync();

    const lines: string[] = [];
    store = await openEmbeddedStore({ dataDir: dir, log: (l) => lines.push(l) });
    try {
      assert.deepStrictEqual(lines, [], 'three records are no large store');
      assert.deepStrictEqual(await store.findTraces({ service: 'db' }), [
        { traceId: tid, startUs: T0, durationUs: 8_500, spanCount: 2, errorCount: 1, services: ['db', 'gateway'], root: { service: 'gateway', name: 'GET /' }, findingCount: 0 },
      ]);
    } finally {
      await store.close();
    }
    // Built once: a second open does not rebuild (a rebuild would show in the log of a large store; here, in the marker).
    const check = await DuckDBInstance.create(join(dir, DATABASE_FILE));
    const k = await check.connect();
    const rows = (await k.runAndReadAll(`SELECT (SELECT count(*) FROM trace_summaries)::DOUBLE, (SELECT value FROM meta WHERE key = 'trace_summaries')`)).getRowsJS();
    assert.deepStrictEqual(rows, [[1, '1']]);
    k.closeSync();
    check.closeSync();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
