/**
 * The SDK's seams: each is an interface of a few methods, implemented by sibling folders
 * (propagation/, sampling/, export/), so that one contract test can run against every implementation.
 */
import type { Attributes, Span as ModelSpan, SpanKind } from '@linktrace/model';

export const TRACE_FLAG_SAMPLED = 0x01;
/**
 * W3C Trace Context Level 2 `random` flag: the trace id's right-most 7 bytes are random. Passed on
 * from a parent that set it; never set on ids made here (they hold time, sequence and address).
 */
export const TRACE_FLAG_RANDOM = 0x02;

/** What crosses a process boundary about a span. */
export interface SpanContext {
  /** 32 lowercase hex. */
  traceId: string;
  /** 16 lowercase hex. */
  spanId: string;
  /** W3C trace flags; bit 0 = sampled. */
  traceFlags: number;
  /** Raw W3C tracestate header value (already validated), without our own `lt=` member. */
  traceState?: string;
  /** Position id of this span (DESIGN §2), carried as `lt=<rpcid>` in tracestate. */
  rpcid?: string;
  /** True when the context was extracted from a carrier (the span lives in another process). */
  isRemote?: boolean;
  /** Debug / force-sampling flag (B3 `X-B3-Flags: 1`, b3 single `d`): samplers must record the trace. */
  debug?: boolean;
}

export interface BaggageEntry {
  value: string;
  /** Raw property string after the first `;`, kept verbatim. */
  metadata?: string;
}
/** Immutable by convention: propagators build a new map rather than mutate one they were given. */
export type Baggage = ReadonlyMap<string, BaggageEntry>;

/** What propagators read from and write to a carrier. */
export interface Propagated {
  spanContext?: SpanContext;
  baggage?: Baggage;
  /**
   * A trace to join without a parent span (e.g. `X-Service-Transaction-ID`): the next span starts as a
   * root span of this trace. Ignored when `spanContext` is set.
   */
  rootTraceId?: string;
}

export interface TextMapGetter<C> {
  /** Header lookup; implementations for HTTP maps are case-insensitive. */
  get(carrier: C, key: string): string | string[] | undefined;
  keys(carrier: C): string[];
}

export interface TextMapSetter<C> {
  set(carrier: C, key: string, value: string): void;
}

export interface Propagator {
  /** Writes what it carries of `value` into the carrier. Never throws. */
  inject<C>(value: Propagated, carrier: C, setter: TextMapSetter<C>): void;
  /**
   * Reads the carrier and returns `base` with what this propagator found merged in
   * (a new object; `base` is not modified). A malformed header yields `base` unchanged. Never throws.
   */
  extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated;
  /** Header names this propagator writes (for CORS allow-lists and carrier cleanup). */
  fields(): readonly string[];
}

/**
 * The tracer reuses one SamplingInput object for every decision (no per-span allocation):
 * a sampler must not keep a reference to it.
 */
export interface SamplingInput {
  traceId: string;
  /** The parent's context, local or remote; undefined for a root span. */
  parent: SpanContext | undefined;
  name: string;
  kind: SpanKind;
  attributes: Attributes | undefined;
  baggage: Baggage | undefined;
}

export interface Sampler {
  /** true = record and export the span. */
  shouldSample(input: SamplingInput): boolean;
  /** Told about each sampled span that ended, so that budget-based samplers can adapt. */
  onSampledSpanEnd?(): void;
  toString(): string;
}

/** The process-wide description of who records the spans. */
export interface Resource {
  service: string;
  /** `host:port` */
  instance?: string;
  attributes: Attributes;
}

export type ExportResult =
  | { code: 'success' }
  /** Worth retrying later: 429, 503, network error. `retryAfterMs` from a Retry-After header. */
  | { code: 'retryable'; error: Error; retryAfterMs?: number }
  /** Never worth retrying (400, encoding error): the batch is dropped and counted. */
  | { code: 'failed'; error: Error };

export interface SpanExporter {
  /**
   * Sends one batch. `resource` carries the process resource, including the cumulative dropped-span
   * counter (`linktrace.sdk.dropped_spans`). Must not throw; failures are results.
   */
  export(spans: readonly ModelSpan[], resource: Resource): Promise<ExportResult>;
  shutdown(): Promise<void>;
}

/** Receives spans from the tracer. Both hooks are on the hot path: no I/O, no await. */
export interface SpanProcessor {
  /** Called when a sampled span starts. `startRecord` is set when start records are enabled. */
  onStart(span: ModelSpan, startRecord: boolean): void;
  /** Called once when a sampled span ends; the span is final and must not be changed. */
  onEnd(span: ModelSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}
