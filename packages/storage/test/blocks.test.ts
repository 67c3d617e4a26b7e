import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageContract } from '../src/contract/index.js';
import type { ContractStoreOptions } from '../src/contract/index.js';
import { openBlockStore } from '../src/blocks/block-store.js';
import type { BlockStoreOptions } from '../src/blocks/block-store.js';

function blocks(options: Omit<BlockStoreOptions, 'dataDir'> = {}) {
  return async (contract: ContractStoreOptions = {}) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lt-blocks-'));
    return {
      store: await openBlockStore({ dataDir, ...options, ...contract }),
      reopen: () => openBlockStore({ dataDir, ...options, ...contract }),
      dispose: () => rm(dataDir, { recursive: true, force: true }),
    };
  };
}

// Every write batch its own micro-block, never compacted: the read path over many small files.
runStorageContract('blocks (Parquet)', blocks({ compactFiles: Infinity, compactRows: Infinity }));
// Compaction after every other micro-block, every attribute key its own column at once, micro-blocks
// uncompressed, compacted by DuckDB (the default; the JS compaction, off by default, is compared
// with it row for row in block-store.test.ts): reads across compacted and fresh files, swaps during
// reads, the column path.
runStorageContract(
  'blocks (Parquet), compacting, attribute columns',
  blocks({ compactFiles: 2, microCodec: 'none', attributeColumns: { sampleEvery: 1, window: 1, minShare: 0.01 } }),
);
// Deferred durability (the server's mode): writes land in the in-memory head, which every query
// reads with the files; a small head bound writes it out (one sorted file) every few batches, so
// reads cross head blocks, head files and their compaction.
runStorageContract('blocks (Parquet), deferred durability', blocks({ durability: 'deferred', flushRows: 7, compactFiles: 3 }));
