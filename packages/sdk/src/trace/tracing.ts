import type { Attributes, InstrumentationScope } from '@linktrace/model';
import { Context } from '../context/context.js';
import { activeContext } from '../context/context-manager.js';
import { BatchSpanProcessor } from '../export/batch-span-processor.js';
import { headerGetter, headerSetter } from '../propagation/carriers.js';
import { defaultPropagator } from '../propagation/composite.js';
import { alwaysOn } from '../sampling/always-on.js';
import { parentBasedSampler } from '../sampling/parent-based.js';
import type {
  Propagated,
  Propagator,
  Resource,
  Sampler,
  SpanExporter,
  SpanProcessor,
  TextMapGetter,
  TextMapSetter,
} from '../types.js';
import { newCounters, type SdkCounters } from './counters.js';
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from './limits.js';
import { MultiSpanProcessor, NOOP_PROCESSOR } from './multi-span-processor.js';
import { warnEach, type ErrorHandler } from '../export/error-reporter.js';
import { Guard } from './guard.js';
import { contextFromPropagated } from './remote-context.js';
import { DEFAULT_SENSITIVE_KEYS, Redactor } from './redaction.js';
import { Tracer } from './tracer.js';
import type { TracerState } from './tracer-state.js';

export interface TracingOptions {
  /** The service name every span carries (OTLP `service.name`). */
  service: string;
  /** `host:port` of this process; also feeds the trace-id generator's address when known. */
  instance?: string;
  /** Extra resource attributes (e.g. `deployment.environment`). */
  resource?: Attributes;
  /** Default: parent-based, always-on for roots. */
  sampler?: Sampler;
  /** Default: W3C trace context + baggage (B3 and X-Service-Transaction-ID also read). */
  propagator?: Propagator;
  /** Shorthand for `processors: [new BatchSpanProcessor(exporter)]`. */
  exporter?: SpanExporter;
  processors?: readonly SpanProcessor[];
  limits?: Partial<SpanLimits>;
  /** Replaces the default sensitive key fragments. */
  sensitiveKeys?: readonly string[];
  /** Added to the default sensitive key fragments. */
  extraSensitiveKeys?: readonly string[];
  /** Report every span when it starts too (DESIGN §3), so a crash mid-work still shows the hop. */
  startRecords?: boolean;
  /**
   * Told once per place when a sampler, processor or propagator throws (the SDK catches it and goes
   * on; later ones are counted in `counters.guardedErrors`). Default: one `console.warn` line each.
   */
  onError?: ErrorHandler;
}

/** A configured SDK: the tracers, the propagator and the export pipeline of one process. */
export class Tracing {
  readonly resource: Resource;
  readonly counters: SdkCounters;
  readonly propagator: Propagator;
  private readonly guard: Guard;
  private readonly processor: SpanProcessor;
  private readonly base: Omit<TracerState, 'scope'>;
  private readonly states: TracerState[] = [];
  private readonly tracers = new Map<string, Tracer>();

  constructor(options: TracingOptions) {
    const service = typeof options.service === 'string' && options.service.length > 0 ? options.service : 'unknown_service';
    this.resource = { service, instance: options.instance, attributes: { ...options.resource } };
    this.counters = newCounters();
    this.guard = new Guard(options.onError ?? warnEach, this.counters);
    this.propagator = options.propagator ?? defaultPropagator();
    const processors = [...(options.processors ?? [])];
    if (options.exporter) processors.push(new BatchSpanProcessor(options.exporter, { resource: this.resource }));
    // A single processor is called directly (the tracer and the span guard each call); several go
    // through the fan-out, which guards each one so that one failing does not stop the others.
    this.processor =
      processors.length === 0
        ? NOOP_PROCESSOR
        : processors.length === 1
          ? processors[0]!
          : new MultiSpanProcessor(processors, (where, error) => this.guard.caught(where, error));
    const sensitive = [...(options.sensitiveKeys ?? DEFAULT_SENSITIVE_KEYS), ...(options.extraSensitiveKeys ?? [])];
    const limits = { ...DEFAULT_SPAN_LIMITS, ...options.limits };
    this.base = {
      resource: this.resource,
      limits,
      attributeListLimit: limits.attributeCountLimit * 2,
      valueLengthLimit: limits.attributeValueLengthLimit,
      redactor: new Redactor(sensitive),
      counters: this.counters,
      guard: this.guard,
      sampler: options.sampler ?? parentBasedSampler({ root: alwaysOn() }),
      processor: this.processor,
      startRecords: options.startRecords ?? false,
      shutDown: false,
    };
  }

  /** One tracer per instrumentation scope (library name and version), created once. */
  getTracer(scopeName = 'default', version?: string): Tracer {
    // Anything but strings (a symbol would throw in the key below) is no scope.
    if (typeof scopeName !== 'string') scopeName = 'default';
    if (typeof version !== 'string') version = undefined;
    const key = version === undefined ? scopeName : `${scopeName}@${version}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      const scope: InstrumentationScope | undefined =
        scopeName === 'default' && version === undefined ? undefined : version === undefined ? { name: scopeName } : { name: scopeName, version };
      const state: TracerState = { ...this.base, scope };
      this.states.push(state);
      tracer = new Tracer(state);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  /** Writes the context's span and baggage into an outgoing carrier (HTTP headers by default). Never throws. */
  inject<C>(carrier: C, setter: TextMapSetter<C> = headerSetter as TextMapSetter<C>, ctx: Context = activeContext()): void {
    try {
      const source = ctx instanceof Context ? ctx : activeContext();
      const span = source.span;
      const value: Propagated = {};
      if (span !== undefined && span.spanId !== '') value.spanContext = span;
      if (source.baggage !== undefined) value.baggage = source.baggage;
      if (value.spanContext === undefined && value.baggage === undefined) return;
      this.propagator.inject(value, carrier, setter);
    } catch (error) {
      // Propagators do not throw by contract; a custom one or a carrier's setter might.
      this.guard.caught('propagator.inject', error);
    }
  }

  /** Reads an incoming carrier; returns `ctx` with the remote parent and baggage found in it. Never throws. */
  extract<C>(carrier: C, getter: TextMapGetter<C> = headerGetter as TextMapGetter<C>, ctx: Context = Context.ROOT): Context {
    const base = ctx instanceof Context ? ctx : Context.ROOT;
    try {
      return contextFromPropagated(this.propagator.extract({}, carrier, getter), base);
    } catch (error) {
      this.guard.caught('propagator.extract', error);
      return base;
    }
  }

  /** Exports what has ended so far. Resolves, never rejects: a failing processor is reported. */
  forceFlush(): Promise<void> {
    return this.guard.settle('span processor forceFlush', () => this.processor.forceFlush());
  }

  /** Flushes and stops exporting; spans started afterwards are not recorded. Idempotent; never rejects. */
  async shutdown(): Promise<void> {
    this.base.shutDown = true;
    for (const state of this.states) state.shutDown = true;
    await this.guard.settle('span processor shutdown', () => this.processor.shutdown());
  }
}

export function createTracing(options: TracingOptions): Tracing {
  return new Tracing(options);
}
