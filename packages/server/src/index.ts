// The server as a library: build the app (ingest + query) around any SpanStore, or start it as
// `linktrace serve` does.
export * from './errors.js';
export { buildApp, type AppOptions, type LinktraceState } from './app.js';
export { startServer, type RunningServer, type StartOptions } from './cli/serve.js';
export { registerQueryRoutes, type QueryRoutesOptions } from './routes/query-routes.js';
export { registerZipkinQueryRoutes, DEFAULT_AUTOCOMPLETE_KEYS, type ZipkinQueryOptions } from './routes/query-zipkin.js';
export { registerNativeQueryRoutes, type NativeQueryOptions } from './routes/query-native.js';
export { buildTraceView } from './query/trace-view.js';
export type { TraceView, SpanJson, PositionNode, TracePositions, SkewMark, MissingParent } from './query/trace-view-types.js';
export { runImport, type ImportOptions, type ImportSummary, type ImportIssue, type ImportProgress } from './import/import-run.js';
export { StoreSink } from './import/store-sink.js';
export { HttpSink } from './import/http-sink.js';
export type { SpanSink, SinkResult } from './import/span-sink.js';
export { DEFAULT_LIMITS, DEFAULT_PIPELINE, DEFAULT_WAL, ConfigError, parseDuration, parseSize, type IngestLimits, type PipelineOptions, type WalOptions } from './config.js';
export { parseServeFlags, type ServeOptions, type ServeFlags } from './cli/serve.js';
export type { IngestStore } from './pipeline/ingest-store.js';
export type { HealthStatus } from './routes/health-check.js';
