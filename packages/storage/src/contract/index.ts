export { runStorageContract } from './run-storage-contract.js';
export type { ContractStore, CreateContractStore } from './contract-harness.js';
export * from './contract-spans.js';
