import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../src/config.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { openStore } from '../src/cli/store-url.js';
import { storeKindOf } from '../src/cli/open-store.js';

const isConfigError = (pattern: RegExp) => (err: unknown) => err instanceof ConfigError && pattern.test(err.message);

void test('serve --store-format picks how a new data directory stores spans; a directory keeps the kind it was made with', async () => {
  const plain = parseServeFlags({ ui: false }).store;
  assert.equal(plain?.kind, 'embedded');
  assert.equal(plain?.kind === 'embedded' ? plain.format : 'x', undefined);
  const asked = parseServeFlags({ ui: false, storeFormat: 'blocks' }).store;
  assert.equal(asked?.kind === 'embedded' ? asked.format : undefined, 'blocks');
  assert.throws(() => parseServeFlags({ ui: false, storeFormat: 'parquet' }), isConfigError(/--store-format: parquet is not one of duckdb, blocks/));
  assert.throws(() => parseServeFlags({ ui: false, storeFormat: 'blocks', store: 'clickhouse://127.0.0.1:8123/db' }), isConfigError(/--store-format: only for an embedded store/));

  const dataDir = await mkdtemp(join(tmpdir(), 'lt-open-store-'));
  try {
    assert.equal(storeKindOf(dataDir), 'duckdb');
    const store = await openStore({ kind: 'embedded', dataDir, format: 'blocks' }, { clock: Date.now });
    await store.close();
    assert.ok(existsSync(join(dataDir, 'blocks')), 'spans go to blocks/');
    assert.equal(storeKindOf(dataDir), 'blocks');
    // Reopened without a format: the kind the directory holds.
    const again = await openStore({ kind: 'embedded', dataDir }, { clock: Date.now });
    await again.close();
    assert.equal(storeKindOf(dataDir), 'blocks');
    // Asking for the other kind is refused, nothing converted.
    await assert.rejects(openStore({ kind: 'embedded', dataDir, format: 'duckdb' }, { clock: Date.now }), isConfigError(/already holds a blocks store/));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
