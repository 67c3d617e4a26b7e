export * from './b3.js';
export * from './carriers.js';
export * from './composite.js';
export * from './percent-encoding.js';
export * from './service-transaction-id.js';
export * from './trace-state.js';
export * from './w3c-baggage.js';
export * from './w3c-trace-context.js';
