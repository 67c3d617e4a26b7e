import { alwaysOff } from '../sampling/always-off.js';
import type { Tracer } from './tracer.js';
import { Tracing } from './tracing.js';

/**
 * Until a process configures tracing, libraries still get a working tracer: it records nothing but
 * keeps propagating incoming trace context, so an unconfigured hop does not break the chain.
 */
const fallback = new Tracing({ service: 'unknown_service', sampler: alwaysOff() });
let current: Tracing = fallback;

export function setGlobalTracing(tracing: Tracing): void {
  current = tracing;
}

export function getGlobalTracing(): Tracing {
  return current;
}

/** The global tracer for an instrumentation scope. */
export function getTracer(scopeName?: string, version?: string): Tracer {
  return current.getTracer(scopeName, version);
}
