import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageContract } from '../src/contract/index.js';
import type { ContractStoreOptions } from '../src/contract/index.js';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import type { EmbeddedStoreOptions } from '../src/embedded/embedded-store.js';

function embedded(options: Omit<EmbeddedStoreOptions, 'dataDir'> = {}) {
  return async (contract: ContractStoreOptions = {}) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lt-embedded-'));
    return {
      store: await openEmbeddedStore({ dataDir, ...options, ...contract }),
      reopen: () => openEmbeddedStore({ dataDir, ...options, ...contract }),
      dispose: () => rm(dataDir, { recursive: true, force: true }),
    };
  };
}

// Batches flushed as soon as the writer is free: each write is its own batch unless writes overlap.
runStorageContract('embedded (DuckDB)', embedded({ flushIntervalMs: 0 }));
// Every attribute key gets its own column at once (the column path of writes, reads and search), and
// batches are cut by size (a flush starts whenever 7 spans wait), so overlapping calls share batches.
runStorageContract(
  'embedded (DuckDB), attribute columns, small batches',
  embedded({ flushIntervalMs: 5, flushRows: 7, attributeColumns: { sampleEvery: 1, window: 1, minShare: 0.01 } }),
);
