import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../src/config.js';
import { openStore, parseStoreKind, storeKindOf } from '../src/cli/open-store.js';
import { parseServeFlags } from '../src/cli/serve.js';

void test('serve --store picks the backend; a data directory keeps the kind it was made with', async () => {
  assert.equal(parseServeFlags({ ui: false }).store, 'duckdb');
  assert.equal(parseServeFlags({ ui: false, store: 'blocks' }).store, 'blocks');
  assert.throws(() => parseStoreKind('parquet'), (err: unknown) => err instanceof ConfigError && /--store: parquet is not one of duckdb, blocks/.test(err.message));
  const dataDir = await mkdtemp(join(tmpdir(), 'lt-open-store-'));
  try {
    assert.equal(storeKindOf(dataDir), 'duckdb');
    const store = await openStore('blocks', dataDir);
    await store.close();
    assert.ok(existsSync(join(dataDir, 'blocks')), 'spans go to blocks/');
    assert.equal(storeKindOf(dataDir), 'blocks');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
