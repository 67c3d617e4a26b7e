export { runStorageContract } from './run-storage-contract.js';
export type { StorageContractOptions } from './run-storage-contract.js';
export { fromJaegerQuery, rfc3339ToUs } from './jaeger-contract.js';
export type { ContractStore, ContractStoreOptions, CreateContractStore } from './contract-harness.js';
export * from './contract-spans.js';
export { shopSyncTrace } from './service-map-contract.js';
