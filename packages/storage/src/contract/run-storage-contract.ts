/**
 * The storage contract suite (DESIGN §6): every backend calls `runStorageContract` from its own test
 * file with a factory of fresh stores, and must pass all of it.
 *
 *   runStorageContract('embedded', async () => { const dir = …; return { store: await open(dir),
 *     reopen: () => open(dir), dispose: () => rm(dir) }; });
 */
import { describe } from 'node:test';
import type { CreateContractStore } from './contract-harness.js';
import { dependenciesContract } from './dependencies-contract.js';
import { findingsContract } from './findings-contract.js';
import { lifecycleContract } from './lifecycle-contract.js';
import { readWriteContract } from './read-write-contract.js';
import { searchContract } from './search-contract.js';

export function runStorageContract(name: string, createStore: CreateContractStore): void {
  describe(`storage contract: ${name}`, () => {
    readWriteContract(createStore);
    searchContract(createStore);
    dependenciesContract(createStore);
    findingsContract(createStore);
    lifecycleContract(createStore);
  });
}
