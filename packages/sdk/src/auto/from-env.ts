import { BUILTIN_INSTRUMENTATIONS, OPT_IN_INSTRUMENTATIONS } from '../instrumentations/registry.js';
import { configFromEnv, type Env } from './env-config.js';
import { startTracing, stderrWarn, type StartedTracing } from './start-tracing.js';

/** `startTracing` configured from environment variables; undefined when `LINKTRACE_DISABLED=true`. */
export function startTracingFromEnv(env: Env = process.env): StartedTracing | undefined {
  const config = configFromEnv(env, Object.keys(BUILTIN_INSTRUMENTATIONS), stderrWarn, Object.keys(OPT_IN_INSTRUMENTATIONS));
  if (config.disabled) return undefined;
  return startTracing({
    service: config.service,
    ...(config.instance === undefined ? {} : { instance: config.instance }),
    tracesUrl: config.tracesUrl,
    encoding: config.encoding,
    headers: config.headers,
    sampler: config.sampler,
    instrumentations: config.instrumentations,
    captureValues: config.captureValues,
    traceparent: config.traceparent,
    tracestate: config.tracestate,
  });
}
