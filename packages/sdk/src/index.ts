// The SDK's public API. Everything here is safe to call from user code: it never throws on bad input.
export * from './types.js';
export { Context } from './context/context.js';
export { activeContext, bindContext, bindEmitter, runWithContext } from './context/context-manager.js';
export type { SpanHandle } from './trace/span-handle.js';
export type { SdkCounters } from './trace/counters.js';
export { DEFAULT_SPAN_LIMITS, type SpanLimits } from './trace/limits.js';
export { DEFAULT_SENSITIVE_KEYS, REDACTED } from './trace/redaction.js';
export { Tracer, type LinkSpec, type StartSpanOptions } from './trace/tracer.js';
export { Tracing, createTracing, type TracingOptions } from './trace/tracing.js';
export { getGlobalTracing, getTracer, setGlobalTracing } from './trace/global.js';
export { MultiSpanProcessor } from './trace/multi-span-processor.js';
export { CollectingSpanProcessor } from './testing/collecting-span-processor.js';
export * from './propagation/index.js';
export * from './sampling/index.js';
export * from './export/index.js';
export * from './stages/index.js';
export * from './reconcile/index.js';
export * from './remedies/index.js';
