import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import { DATABASE_FILE } from '../src/embedded/schema.js';

const TRACE = '0123456789abcdef0123456789abcdef';

void test('a data file whose findings table predates the rpcid column is opened, read and written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lt-findings-migration-'));
  try {
    // The findings table as the first release made it.
    const old = await DuckDBInstance.create(join(dir, DATABASE_FILE));
    const c = await old.connect();
    await c.run(`CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`);
    await c.run(`INSERT INTO meta VALUES ('schema', '1')`);
    await c.run(`CREATE TABLE findings (
      seq BIGINT NOT NULL, trace_id VARCHAR NOT NULL, rule VARCHAR NOT NULL, service VARCHAR NOT NULL,
      span_id VARCHAR NOT NULL, message VARCHAR NOT NULL, time_us BIGINT NOT NULL, entity_type VARCHAR,
      entity_key VARCHAR, entity_version VARCHAR, target VARCHAR)`);
    await c.run(`INSERT INTO findings VALUES (1, '${TRACE}', 'missing-write', 'sync-worker', 'aaaaaaaaaaaaaaaa', 'old', 5, NULL, NULL, NULL, NULL)`);
    c.closeSync();
    old.closeSync();

    const store = await openEmbeddedStore({ dataDir: dir });
    try {
      assert.deepStrictEqual(await store.findFindings(), [
        { traceId: TRACE, rule: 'missing-write', service: 'sync-worker', spanId: 'aaaaaaaaaaaaaaaa', message: 'old', timeUs: 5 },
      ]);
      const pinned = { traceId: TRACE, rule: 'stage-error' as const, service: 'shop-query', spanId: 'bbbbbbbbbbbbbbbb', message: 'new', timeUs: 9, rpcid: '0.2.3' };
      await store.writeFindings([pinned]);
      assert.deepStrictEqual((await store.findFindings({ rule: 'stage-error' }))[0], pinned);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
