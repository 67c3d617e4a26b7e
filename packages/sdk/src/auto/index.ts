// One-call setup: `startTracing(options)` or, from environment variables, `startTracingFromEnv()`
// (what `node --import @linktrace/sdk/register` runs).
export { startTracing, type StartedTracing, type StartTracingOptions } from './start-tracing.js';
export { startTracingFromEnv } from './from-env.js';
export { configFromEnv, DEFAULT_ENDPOINT, DEFAULT_SERVICE, type EnvConfig } from './env-config.js';
