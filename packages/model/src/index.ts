export * from './span.js';
export * from './ids.js';
export * from './rpcid.js';
export * from './codec/index.js';
export * from './hash.js';
export * from './finding.js';
export * from './sdk-drops.js';
export * from './remedy.js';
