import type { Attributes, SpanKind } from '@linktrace/model';
import { newSpanId, newTraceId } from '@linktrace/model';
import { callAndEnd } from './call-and-end.js';
import { childPosition } from './child-position.js';
import { Context } from '../context/context.js';
import { activeContext, runWithContext } from '../context/context-manager.js';
import { TRACE_FLAG_RANDOM, type Baggage, type SamplingInput, type SpanContext } from '../types.js';
import { usFromPerf } from './clock.js';
import { NonRecordingSpan, RemoteSpan } from './non-recording-span.js';
import { RecordingSpan } from './recording-span.js';
import type { SpanHandle } from './span-handle.js';
import type { TracerState } from './tracer-state.js';

export interface LinkSpec {
  context: SpanContext;
  attributes?: Attributes;
}

export interface StartSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: readonly LinkSpec[];
  /** µs since epoch; default now. */
  startTimeUs?: number;
  /**
   * The parent: a Context, a span, or a SpanContext (e.g. extracted by hand). `null` starts a new
   * trace. Default: the active context.
   */
  parent?: Context | SpanHandle | SpanContext | null;
  /** Report a start record now (DESIGN §3), overriding the provider's default. */
  startRecord?: boolean;
}

/**
 * Reused for every sampling decision. The trace id of a new root is generated only if a sampler
 * reads it, so an always-off root costs no id at all.
 */
class ReusableSamplingInput implements SamplingInput {
  parent: SpanContext | undefined = undefined;
  name = '';
  kind: SpanKind = 'internal';
  attributes: Attributes | undefined = undefined;
  baggage: Baggage | undefined = undefined;
  fixedTraceId: string | undefined = undefined;
  generatedTraceId: string | undefined = undefined;

  get traceId(): string {
    return this.fixedTraceId ?? (this.generatedTraceId ??= newTraceId());
  }
}

export class Tracer {
  private readonly input = new ReusableSamplingInput();

  constructor(private readonly state: TracerState) {}

  /** Never throws: whatever goes wrong inside (a sampler, a processor, odd options) is reported and counted. */
  startSpan(name: string, options?: StartSpanOptions): SpanHandle {
    try {
      return this.start(name, options);
    } catch (error) {
      // Boundary guard for what the targeted ones below do not cover (e.g. options with throwing getters).
      this.state.guard.caught('startSpan', error);
      return new NonRecordingSpan(undefined, 0, undefined);
    }
  }

  private start(name: string, options: StartSpanOptions | undefined): SpanHandle {
    const state = this.state;
    const kind = options?.kind ?? 'internal';
    const optionParent = options?.parent;
    let parent: SpanHandle | undefined;
    let baggage: Baggage | undefined;
    if (optionParent === undefined) {
      const ctx = activeContext();
      parent = ctx.span;
      baggage = ctx.baggage;
    } else if (optionParent === null) {
      parent = undefined;
    } else if (optionParent instanceof Context) {
      parent = optionParent.span;
      baggage = optionParent.baggage;
    } else if (typeof (optionParent as SpanHandle).nextChildIndex === 'function') {
      parent = optionParent as SpanHandle;
    } else if (isSpanContext(optionParent)) {
      parent = new RemoteSpan(optionParent);
    } else {
      // Not a context, a span or a span context: ignored (counted), as if no parent was given.
      state.counters.invalidAttributes++;
      const ctx = activeContext();
      parent = ctx.span;
      baggage = ctx.baggage;
    }
    // A remote context with no span id only names the trace to join (X-Service-Transaction-ID).
    const joinOnly = parent !== undefined && parent.isRemote && parent.spanId === '';

    const input = this.input;
    input.parent = parent === undefined || joinOnly ? undefined : parent;
    input.name = name;
    input.kind = kind;
    input.attributes = options?.attributes;
    input.baggage = baggage;
    input.fixedTraceId = parent === undefined ? undefined : parent.traceId;
    input.generatedTraceId = undefined;
    let sampled = false;
    if (!state.shutDown) {
      try {
        sampled = state.sampler.shouldSample(input);
      } catch (error) {
        // A broken sampler records nothing rather than everything: the safe side for the service.
        state.guard.caught('sampler.shouldSample', error);
      }
    }
    input.parent = undefined;
    input.attributes = undefined;
    input.baggage = undefined;

    if (!sampled) {
      state.counters.spansUnsampled++;
      if (joinOnly) return new NonRecordingSpan(undefined, 0, parent!.traceId);
      return new NonRecordingSpan(parent, parent === undefined ? 0 : parent.nextChildIndex(), input.generatedTraceId);
    }

    // One clock read serves both the start time and, for a new trace, the id's time prefix.
    const perfNow = performance.now();
    let traceId: string;
    let parentSpanId: string | undefined;
    let rpcid: string;
    let traceState: string | undefined;
    if (parent === undefined || joinOnly) {
      traceId = joinOnly ? parent!.traceId : (input.generatedTraceId ?? newTraceId(perfNow));
      parentSpanId = undefined;
      rpcid = '0';
      traceState = undefined;
    } else {
      traceId = parent.traceId;
      parentSpanId = parent.spanId;
      traceState = parent.traceState;
      // The receiving half of a call takes the position its caller gave it (client and server
      // halves of one call share a position, as in EagleEye); everything else is a new call.
      rpcid =
        parent.isRemote && (kind === 'server' || kind === 'consumer') && (parent as RemoteSpan).hasRpcid
          ? (parent.rpcid as string)
          : childPosition(parent.rpcid || '0', parent.nextChildIndex());
    }
    const span = new RecordingSpan(
      state,
      name,
      kind,
      traceId,
      newSpanId(),
      parentSpanId,
      rpcid,
      traceState,
      options?.startTimeUs ?? usFromPerf(perfNow),
      parent === undefined ? 0 : parent.traceFlags & TRACE_FLAG_RANDOM,
    );
    state.counters.spansStarted++;
    if (options !== undefined) {
      if (options.attributes !== undefined) span.setAttributes(options.attributes);
      if (Array.isArray(options.links)) {
        for (const link of options.links as readonly (LinkSpec | null | undefined)[]) {
          if (link !== null && typeof link === 'object') span.addLink(link.context, link.attributes);
          else state.counters.invalidAttributes++;
        }
      }
    }
    try {
      state.processor.onStart(span, options?.startRecord ?? state.startRecords);
    } catch (error) {
      state.guard.caught('span processor onStart', error);
    }
    return span;
  }

  /** Starts a span, runs `fn` with it active, and returns what `fn` returns. `fn` ends the span. */
  startActiveSpan<R>(name: string, options: StartSpanOptions | undefined, fn: (span: SpanHandle) => R): R {
    const span = this.startSpan(name, options);
    let ctx: Context;
    try {
      ctx = contextFor(options?.parent).withSpan(span);
    } catch (error) {
      this.state.guard.caught('startActiveSpan', error);
      ctx = Context.ROOT.withSpan(span);
    }
    if (typeof fn !== 'function') {
      // Nothing to run: the span is recorded as an empty marker and the misuse counted.
      this.state.counters.invalidAttributes++;
      span.end();
      return undefined as R;
    }
    // Outside any guard: what `fn` throws is the caller's own and propagates unchanged.
    return runWithContext(ctx, fn, span);
  }

  /**
   * Runs `fn` in a new active span and ends it when `fn` returns or its promise settles. A throw or a
   * rejection records the exception and marks the span as an error, then propagates unchanged.
   */
  trace<R>(name: string, options: StartSpanOptions | undefined, fn: (span: SpanHandle) => R): R {
    if (typeof fn !== 'function') return this.startActiveSpan(name, options, fn);
    return this.startActiveSpan(name, options, (span) => callAndEnd(span, fn));
  }
}

const HEX_ID = /^[0-9a-f]+$/;

export function isSpanContext(value: unknown): value is SpanContext {
  if (value === null || typeof value !== 'object') return false;
  const { traceId, spanId, traceFlags } = value as Partial<SpanContext>;
  return (
    typeof traceId === 'string' && (traceId.length === 32 || traceId.length === 16) && HEX_ID.test(traceId) &&
    typeof spanId === 'string' && (spanId.length === 16 || spanId === '') && (spanId === '' || HEX_ID.test(spanId)) &&
    typeof traceFlags === 'number'
  );
}

function contextFor(parent: StartSpanOptions['parent']): Context {
  return parent instanceof Context ? parent : activeContext();
}
