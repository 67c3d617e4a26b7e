/**
 * The storage contract suite (DESIGN §6): every backend calls `runStorageContract` from its own test
 * file with a factory of fresh stores, and must pass all of it.
 *
 *   runStorageContract('embedded', async ({ clock } = {}) => { const dir = …; return {
 *     store: await open(dir, clock), reopen: () => open(dir, clock), dispose: () => rm(dir) }; });
 */
import { describe } from 'node:test';
import type { CreateContractStore } from './contract-harness.js';
import { deleteTracesContract } from './delete-traces-contract.js';
import { dependenciesContract } from './dependencies-contract.js';
import { findingsContract } from './findings-contract.js';
import { DEFAULT_FIXTURES_DIR, jaegerContract } from './jaeger-contract.js';
import { lifecycleContract } from './lifecycle-contract.js';
import { readWriteContract } from './read-write-contract.js';
import { redeliveryContract } from './redelivery-contract.js';
import { retentionContract } from './retention-contract.js';
import { sdkDropsContract } from './sdk-drops-contract.js';
import { searchContract } from './search-contract.js';
import { serviceMapContract } from './service-map-contract.js';
import { summaryContract } from './summary-contract.js';
import { zipkinRecordsContract } from './zipkin-records-contract.js';

export interface StorageContractOptions {
  /** Directory holding `jaeger/queries.json` and `jaeger/traces/`; default: the shared fixtures next to the repo. */
  fixturesDir?: string;
}

export function runStorageContract(name: string, createStore: CreateContractStore, options: StorageContractOptions = {}): void {
  describe(`storage contract: ${name}`, () => {
    readWriteContract(createStore);
    redeliveryContract(createStore);
    searchContract(createStore);
    summaryContract(createStore);
    zipkinRecordsContract(createStore);
    dependenciesContract(createStore);
    serviceMapContract(createStore);
    findingsContract(createStore);
    sdkDropsContract(createStore);
    lifecycleContract(createStore);
    retentionContract(createStore);
    deleteTracesContract(createStore);
    jaegerContract(createStore, options.fixturesDir ?? DEFAULT_FIXTURES_DIR);
  });
}
