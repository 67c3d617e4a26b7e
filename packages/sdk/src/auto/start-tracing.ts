import type { Attributes } from '@linktrace/model';
import { Context } from '../context/context.js';
import { setDefaultContext } from '../context/context-manager.js';
import { otlpHttpExporter } from '../export/otlp-http-exporter.js';
import { instrument } from '../instrumentations/core/enable.js';
import type { Instrumentation } from '../instrumentations/core/instrumentation.js';
import { BUILTIN_INSTRUMENTATIONS, OPT_IN_INSTRUMENTATIONS } from '../instrumentations/registry.js';
import { setGlobalTracing } from '../trace/global.js';
import { createTracing, type Tracing } from '../trace/tracing.js';
import type { Sampler, SpanExporter, SpanProcessor } from '../types.js';
import { DEFAULT_ENDPOINT, DEFAULT_SERVICE } from './env-config.js';
import { installSignalFlush } from './signal-flush.js';

export interface StartTracingOptions {
  /** Service name. Default `unknown_service:node`. */
  service?: string;
  /**
   * This process's instance (`host:port` it serves on, or any id), on every span. A federated
   * gateway names hops by it; absent, hops are told apart by service and agent only.
   */
  instance?: string;
  /** Base URL of `linktrace serve` (spans go to `<endpoint>/v1/traces`). Default `http://127.0.0.1:4318`. */
  endpoint?: string;
  /** Full OTLP/HTTP traces URL; wins over `endpoint` (any OTLP collector). */
  tracesUrl?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Extra export request headers. */
  headers?: Readonly<Record<string, string>>;
  encoding?: 'protobuf' | 'json';
  /** Default: parent-based, always-on for roots. */
  sampler?: Sampler;
  /**
   * Instrumentations by registry name (`'http'`, `'pg'`, opt-in `'console'`) or as instances
   * (`httpInstrumentation({ … })`). Default: every built-in one of the default set.
   */
  instrumentations?: readonly (string | Instrumentation)[];
  /** Names left out of `instrumentations` (handy with the default list). */
  disabledInstrumentations?: readonly string[];
  /** Record statement and command values. Default false. */
  captureValues?: boolean;
  /** Replaces the OTLP exporter (tests, other backends). */
  exporter?: SpanExporter;
  /** Used instead of a batch processor around the exporter. */
  processors?: readonly SpanProcessor[];
  resource?: Attributes;
  startRecords?: boolean;
  /** W3C parent of the process's root spans (what `linktrace run` hands over in `TRACEPARENT`). */
  traceparent?: string;
  tracestate?: string;
  /** Make this the global tracing (`getTracer()`, `traceJob`). Default true. */
  global?: boolean;
  /** On SIGINT/SIGTERM with no other handler: flush, then let the signal end the process. Default true. */
  flushOnSignal?: boolean;
  /** Told about unknown instrumentation names. Default: stderr. */
  warn?: (message: string) => void;
}

export interface StartedTracing {
  readonly tracing: Tracing;
  /** Names of the instrumentations that are on. */
  readonly instrumentations: readonly string[];
  /** Turns the instrumentations off, flushes and stops the export. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Configures tracing for the whole process in one call: exporter, sampler, global tracing,
 * instrumentations, parent handed over by a launcher, flush on exit. What
 * `@linktrace/sdk/register` does from the environment, from an options object.
 */
export function startTracing(options: StartTracingOptions = {}): StartedTracing {
  const warn = options.warn ?? stderrWarn;
  const processors = options.processors ?? undefined;
  const exporter =
    processors !== undefined
      ? undefined
      : (options.exporter ??
        otlpHttpExporter({
          url: options.tracesUrl ?? `${(options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`,
          encoding: options.encoding,
          headers: { ...options.headers, ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}) },
        }));
  const tracing = createTracing({
    service: options.service ?? DEFAULT_SERVICE,
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    sampler: options.sampler,
    exporter,
    processors,
    resource: options.resource,
    startRecords: options.startRecords,
  });
  if (options.global !== false) setGlobalTracing(tracing);
  if (options.traceparent !== undefined) {
    const parent = tracing.extract({ traceparent: options.traceparent, tracestate: options.tracestate });
    if (parent.span !== undefined) setDefaultContext(parent);
    else warn(`TRACEPARENT=${JSON.stringify(options.traceparent)} is not a valid W3C traceparent; ignored`);
  }
  const handle = instrument({
    tracing,
    instrumentations: pickInstrumentations(options.instrumentations, options.disabledInstrumentations ?? [], warn),
    captureValues: options.captureValues ?? false,
  });
  const removeSignalFlush = options.flushOnSignal === false ? () => {} : installSignalFlush(() => tracing.forceFlush());
  let stopping: Promise<void> | undefined;
  return {
    tracing,
    instrumentations: handle.enabled,
    shutdown() {
      stopping ??= (async () => {
        removeSignalFlush();
        handle.disable();
        if (options.traceparent !== undefined) setDefaultContext(Context.ROOT);
        await tracing.shutdown();
      })();
      return stopping;
    },
  };
}

function pickInstrumentations(
  chosen: readonly (string | Instrumentation)[] | undefined,
  disabled: readonly string[],
  warn: (message: string) => void,
): Instrumentation[] {
  const out: Instrumentation[] = [];
  for (const item of chosen ?? Object.keys(BUILTIN_INSTRUMENTATIONS)) {
    let instrumentation: Instrumentation | undefined;
    if (typeof item === 'string') {
      const factory = Object.hasOwn(BUILTIN_INSTRUMENTATIONS, item)
        ? BUILTIN_INSTRUMENTATIONS[item]
        : Object.hasOwn(OPT_IN_INSTRUMENTATIONS, item)
          ? OPT_IN_INSTRUMENTATIONS[item]
          : undefined;
      if (factory === undefined) {
        const known = [...Object.keys(BUILTIN_INSTRUMENTATIONS), ...Object.keys(OPT_IN_INSTRUMENTATIONS)];
        warn(`unknown instrumentation ${JSON.stringify(item)} ignored (known: ${known.join(', ')})`);
        continue;
      }
      instrumentation = factory();
    } else if (item !== null && typeof item === 'object' && typeof item.name === 'string') {
      instrumentation = item;
    } else {
      warn('an instrumentation that is neither a name nor an instrumentation object was ignored');
      continue;
    }
    if (!disabled.includes(instrumentation.name)) out.push(instrumentation);
  }
  return out;
}

const warned = new Set<string>();

/** Configuration problems go to stderr once each (`LINKTRACE_LOG_LEVEL=silent` hides them). */
export function stderrWarn(message: string): void {
  if (warned.has(message) || warned.size > 100) return;
  warned.add(message);
  if (process.env.LINKTRACE_LOG_LEVEL === 'silent') return;
  try {
    process.stderr.write(`linktrace: ${message}\n`);
  } catch {
    // stderr closed
  }
}
