export * from './span.js';
export * from './ids.js';
export * from './rpcid.js';
