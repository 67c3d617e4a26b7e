// node:http and node:https: server spans for incoming requests, client spans for outgoing ones.
export { httpInstrumentation } from './http-instrumentation.js';
export type { HttpInstrumentationConfig } from './config.js';
export { serverSpanOf } from './server.js';
export * as httpAttributes from './attributes.js';
