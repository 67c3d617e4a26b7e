export * from './types.js';
export * from './storage-error.js';
export * from './validate.js';
export * from './record-merge.js';
export * from './trace-summary.js';
export { EmbeddedStore, openEmbeddedStore } from './embedded/embedded-store.js';
export type { EmbeddedStoreOptions } from './embedded/embedded-store.js';
export type { AttributeColumnPolicy } from './embedded/attribute-columns.js';
