import { SPAN_KINDS, type Attributes, type SpanKind, type Stage } from '@linktrace/model';
import { Context } from '../context/context.js';
import { activeContext } from '../context/context-manager.js';
import { headerGetter, headerSetter, type HttpHeaderCarrier } from '../propagation/carriers.js';
import { getGlobalTracing } from '../trace/global.js';
import type { SpanHandle } from '../trace/span-handle.js';
import { Tracer, type LinkSpec, type StartSpanOptions } from '../trace/tracer.js';
import { Tracing } from '../trace/tracing.js';
import type { Propagated, Propagator, TextMapGetter, TextMapSetter } from '../types.js';
import { deliveryParent, type DeliveryFacts } from '../instrumentations/messaging/redelivery.js';
import { EntityFields, type StageEntity } from './entity.js';
import { extractContext, UNREADABLE } from './extract-context.js';
import { applyStage, markStageProblems, PROBLEM_CALL, PROBLEM_ENTITY, PROBLEM_REASON, PROBLEM_TARGET } from './mark-stage.js';
import { runInSpan } from './run-in-span.js';
import { newStageCounters, type StageCounters } from './stage-counters.js';
import type { IncomingStageOptions, StageOptions } from './stage-options.js';
import type { StageSpan } from './stage-span.js';

/** The instrumentation scope of stage spans when `stagesFor` is given a Tracing. */
export const STAGES_SCOPE = '@linktrace/sdk/stages';

export interface StagesConfig {
  /** Reads `headers` and writes `inject` carriers. Default: the Tracing's, or the global Tracing's for a Tracer. */
  propagator?: Propagator;
  /** Scope of the tracer taken from a Tracing; default `@linktrace/sdk/stages`. */
  scope?: string;
}

// Start options of calls without options, made once: the common call allocates none.
const KIND_OPTIONS: Readonly<Record<SpanKind, StartSpanOptions>> = {
  internal: Object.freeze({ kind: 'internal' }),
  server: Object.freeze({ kind: 'server' }),
  client: Object.freeze({ kind: 'client' }),
  producer: Object.freeze({ kind: 'producer' }),
  consumer: Object.freeze({ kind: 'consumer' }),
};

/** Stages whose kind is fixed; a receive's kind depends on its parent (see `receiveKind`). */
const STAGE_KIND: Readonly<Record<Exclude<Stage, 'receive'>, SpanKind>> = {
  process: 'internal',
  skip: 'internal',
  write: 'client',
  enqueue: 'producer',
  dequeue: 'consumer',
  consume: 'consumer',
};

type Fn<R> = (span: SpanHandle) => R;

/**
 * Helpers that record each data-sync stage (DESIGN §3) as a span with the stage attributes set.
 * Each runs `fn` with the stage span active (children get positions below it), ends the span when
 * `fn` returns or its promise settles, and records a throw or rejection as a stage error. Bad input is
 * never thrown: what is valid is recorded and the rest is counted in `counters`.
 */
export class Stages {
  readonly counters: StageCounters = newStageCounters();
  // Reused per call: a stage call reads its entity and sets its attributes before running any user code.
  private readonly fields = new EntityFields();

  constructor(
    readonly tracer: Tracer,
    private readonly propagator: Propagator,
  ) {}

  /** Work arrives: a request or a record taken in. Kind: `server`, or `internal` inside a local span. */
  receive<R, C = HttpHeaderCarrier>(entity: StageEntity, fn: Fn<R>, options?: IncomingStageOptions<C>): R {
    return this.run('receive', entity, undefined, fn, options);
  }

  /** Work on the record between receive and write. Kind: `internal`. */
  process<R>(entity: StageEntity, fn: Fn<R>, options?: StageOptions): R {
    return this.run('process', entity, undefined, fn, options);
  }

  /** The record is written to `target` (`scheme:name`, a service or a store). Kind: `client`. */
  write<R>(entity: StageEntity, target: string, fn: Fn<R>, options?: StageOptions): R {
    return this.run('write', entity, target, fn, options);
  }

  /**
   * The received record is deliberately not written, for `reason`. Without `fn`, records a span that
   * ends at once. Kind: `internal`.
   */
  skip(entity: StageEntity, reason: string, fn?: undefined, options?: StageOptions): void;
  skip<R>(entity: StageEntity, reason: string, fn: Fn<R>, options?: StageOptions): R;
  skip<R>(entity: StageEntity, reason: string, fn?: Fn<R>, options?: StageOptions): R | undefined {
    return this.run('skip', entity, reason, fn, options);
  }

  /** The record is published to `target` (e.g. `mq:shop-changed`); inject inside `fn`. Kind: `producer`. */
  enqueue<R>(entity: StageEntity, target: string, fn: Fn<R>, options?: StageOptions): R {
    return this.run('enqueue', entity, target, fn, options);
  }

  /** A message with the record is taken off a queue. Kind: `consumer`. */
  dequeue<R, C = HttpHeaderCarrier>(entity: StageEntity, fn: Fn<R>, options?: IncomingStageOptions<C>): R {
    return this.run('dequeue', entity, undefined, fn, options);
  }

  /** A message with the record is handled. Kind: `consumer`. */
  consume<R, C = HttpHeaderCarrier>(entity: StageEntity, fn: Fn<R>, options?: IncomingStageOptions<C>): R {
    return this.run('consume', entity, undefined, fn, options);
  }

  /** `markStage`, counting what was invalid in `counters`. Returns true when every input was valid. */
  markStage(span: StageSpan | null | undefined, stage: 'write' | 'enqueue', entity: StageEntity, target: string): boolean;
  markStage(span: StageSpan | null | undefined, stage: 'skip', entity: StageEntity, reason: string): boolean;
  markStage(span: StageSpan | null | undefined, stage: 'receive' | 'process' | 'dequeue' | 'consume', entity: StageEntity): boolean;
  markStage(span: StageSpan | null | undefined, stage: Stage, entity: StageEntity, detail?: string): boolean;
  markStage(span: StageSpan | null | undefined, stage: Stage, entity: StageEntity, detail?: string): boolean {
    return this.count(markStageProblems(span, stage, entity, detail)) === 0;
  }

  /**
   * Writes the context's span (by default the active one: call it inside `enqueue` or `write`) and
   * baggage into an outgoing carrier; default setter `headerSetter` (plain objects such as AMQP headers).
   */
  inject<C>(carrier: C, setter: TextMapSetter<C> = headerSetter as TextMapSetter<C>, ctx: Context = activeContext()): void {
    const span = ctx instanceof Context ? ctx.span : undefined;
    const value: Propagated = {};
    if (span !== undefined && span.spanId !== '') value.spanContext = span;
    if (ctx instanceof Context && ctx.baggage !== undefined) value.baggage = ctx.baggage;
    if (value.spanContext === undefined && value.baggage === undefined) return;
    try {
      this.propagator.inject(value, carrier, setter);
    } catch {
      this.counters.invalidCalls++; // the carrier's setter threw
    }
  }

  private run<R>(stage: Stage, entity: unknown, detail: unknown, fn: unknown, options: unknown): R {
    const fields = this.fields;
    const entityValid = fields.read(entity);
    let problems = 0;
    let start: StartSpanOptions;
    let name: string | undefined;
    if (options === undefined) {
      start = KIND_OPTIONS[stage === 'receive' ? receiveKind(undefined) : STAGE_KIND[stage]];
    } else if (options === null || typeof options !== 'object') {
      problems |= PROBLEM_CALL;
      start = KIND_OPTIONS[stage === 'receive' ? receiveKind(undefined) : STAGE_KIND[stage]];
    } else {
      const opts = options as IncomingStageOptions;
      start = {};
      try {
        problems |= this.resolveStart(stage, opts, start);
        if (typeof opts.name === 'string' && opts.name.length > 0) name = opts.name;
        else if (opts.name !== undefined) problems |= PROBLEM_CALL;
      } catch {
        // Options with throwing getters (a proxy, a half-built object): run as if none were given.
        problems |= PROBLEM_CALL;
        start = KIND_OPTIONS[stage === 'receive' ? receiveKind(undefined) : STAGE_KIND[stage]];
      }
    }
    // The stage attributes go in with the start options, so that a start record (reported when the
    // span starts) already names the stage and the entity: a hop that crashes is still identifiable.
    const stageAttributes: Attributes = {};
    problems |= applyStage({ setAttribute: (key, value) => (stageAttributes[key] = value) }, stage, fields, entityValid, detail);
    let attributes: Attributes;
    try {
      attributes = start.attributes === undefined ? stageAttributes : { ...start.attributes, ...stageAttributes };
    } catch {
      // User attributes that cannot be read (a proxy that throws): the stage's own are kept.
      problems |= PROBLEM_CALL;
      attributes = stageAttributes;
    }
    const span = this.tracer.startSpan(name ?? stageName(stage, fields.type, detail), { ...start, attributes });
    if (typeof fn !== 'function') {
      // A skip needs no work; any other stage without a callback is a misuse, still recorded as a marker.
      if (fn !== undefined || stage !== 'skip') problems |= PROBLEM_CALL;
      this.count(problems);
      span.end();
      return undefined as R;
    }
    this.count(problems);
    const parent = start.parent;
    return runInSpan(parent instanceof Context ? parent : activeContext(), span, fn as Fn<R>);
  }

  /** Fills `start` from user options, keeping only what is valid; returns the PROBLEM_* bits. */
  private resolveStart(stage: Stage, opts: IncomingStageOptions, start: StartSpanOptions): number {
    let problems = 0;
    const parent = opts.parent;
    if (parent === null || (parent !== undefined && isParent(parent))) start.parent = parent;
    else if (parent !== undefined) problems |= PROBLEM_CALL;
    const links = opts.links;
    if (Array.isArray(links)) {
      const valid = validLinks(links);
      if (valid !== links) problems |= PROBLEM_CALL;
      if (valid.length > 0) start.links = valid;
    } else if (links !== undefined) {
      problems |= PROBLEM_CALL;
    }
    if (opts.attributes !== null && typeof opts.attributes === 'object') start.attributes = opts.attributes;
    else if (opts.attributes !== undefined) problems |= PROBLEM_CALL;
    if (typeof opts.startRecord === 'boolean') start.startRecord = opts.startRecord;
    if (opts.headers !== undefined && (stage === 'receive' || stage === 'dequeue' || stage === 'consume')) {
      const getter = (opts.getter ?? headerGetter) as TextMapGetter<unknown>;
      const found = extractContext(this.propagator, opts.headers, getter);
      if (found === UNREADABLE) {
        problems |= PROBLEM_CALL;
      } else if (found !== undefined) {
        const remote = found.span;
        if (opts.relation === 'link') {
          // A link needs a span to point at; a bare trace id (X-Service-Transaction-ID) gives none.
          if (remote !== undefined && remote.spanId !== '') start.links = withLink(start.links, { context: remote.spanContext() });
        } else {
          start.parent = found;
          if (opts.delivery !== undefined) {
            const facts = deliveryFactsOf(opts.delivery);
            if (facts === undefined) problems |= PROBLEM_CALL;
            else {
              // A copy: the caller's attributes object is theirs.
              const attributes: Attributes = { ...start.attributes };
              start.parent = deliveryParent(found, facts, attributes);
              start.attributes = attributes;
            }
          }
        }
      }
      if (opts.relation !== undefined && opts.relation !== 'parent' && opts.relation !== 'link') problems |= PROBLEM_CALL;
    }
    if (opts.kind !== undefined && SPAN_KINDS.includes(opts.kind)) {
      start.kind = opts.kind;
    } else {
      if (opts.kind !== undefined) problems |= PROBLEM_CALL;
      start.kind = stage === 'receive' ? receiveKind(start.parent) : STAGE_KIND[stage];
    }
    return problems;
  }

  private count(problems: number): number {
    if (problems !== 0) {
      const counters = this.counters;
      if (problems & PROBLEM_ENTITY) counters.invalidEntities++;
      if (problems & PROBLEM_TARGET) counters.invalidTargets++;
      if (problems & PROBLEM_REASON) counters.invalidSkipReasons++;
      if (problems & PROBLEM_CALL) counters.invalidCalls++;
    }
    return problems;
  }
}

/** The `delivery` option, checked: undefined when it is not an object with a count ≥ 1 and/or a boolean flag. */
function deliveryFactsOf(delivery: unknown): DeliveryFacts | undefined {
  if (delivery === null || typeof delivery !== 'object') return undefined;
  const { count, redelivered } = delivery as { count?: unknown; redelivered?: unknown };
  if (count !== undefined && !(Number.isSafeInteger(count) && (count as number) >= 1)) return undefined;
  if (redelivered !== undefined && typeof redelivered !== 'boolean') return undefined;
  if (count === undefined && redelivered === undefined) return undefined;
  return { count: count as number | undefined, redelivered: redelivered === true || (count !== undefined && (count as number) > 1) };
}

/**
 * The stage API over a Tracer or a Tracing. Given a Tracing, its stage spans use the scope
 * `@linktrace/sdk/stages` and its propagator.
 */
export function stagesFor(source: Tracer | Tracing, config?: StagesConfig): Stages {
  const scope = typeof config?.scope === 'string' && config.scope.length > 0 ? config.scope : STAGES_SCOPE;
  if (source instanceof Tracing) return new Stages(source.getTracer(scope), config?.propagator ?? source.propagator);
  const global = getGlobalTracing();
  const tracer = source instanceof Tracer ? source : global.getTracer(scope);
  return new Stages(tracer, config?.propagator ?? global.propagator);
}

/**
 * A receive is the receiving half of a call (`server`) when its parent is remote or absent; inside a
 * local span (e.g. the server or consumer span of an automatic instrumentation) it is a step of that
 * span (`internal`), so one call is not recorded as two server spans.
 */
function receiveKind(parent: StartSpanOptions['parent']): SpanKind {
  let span: SpanHandle | undefined;
  if (parent === null) return 'server';
  if (parent === undefined) span = activeContext().span;
  else if (parent instanceof Context) span = parent.span;
  else if (typeof (parent as SpanHandle).nextChildIndex === 'function') span = parent as SpanHandle;
  else return 'server'; // a SpanContext given by hand comes from elsewhere
  return span !== undefined && !span.isRemote ? 'internal' : 'server';
}

function isParent(value: unknown): value is Context | SpanHandle {
  if (value instanceof Context) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { traceId, spanId } = value as { traceId?: unknown; spanId?: unknown };
  return typeof traceId === 'string' && traceId.length > 0 && typeof spanId === 'string';
}

/** `links` itself when every entry is a link to a span (the tracer iterates them unchecked), else the valid ones. */
function validLinks(links: readonly LinkSpec[]): readonly LinkSpec[] {
  for (let i = 0; i < links.length; i++) {
    if (!isLink(links[i])) return links.filter(isLink);
  }
  return links;
}

function isLink(value: unknown): value is LinkSpec {
  if (value === null || typeof value !== 'object') return false;
  const context = (value as { context?: unknown }).context;
  if (context === null || typeof context !== 'object') return false;
  const { traceId, spanId } = context as { traceId?: unknown; spanId?: unknown };
  return typeof traceId === 'string' && typeof spanId === 'string';
}

function withLink(links: readonly LinkSpec[] | undefined, link: LinkSpec): LinkSpec[] {
  return links === undefined ? [link] : [...links, link];
}

function stageName(stage: Stage, type: string | undefined, target: unknown): string {
  const base = type === undefined ? stage : `${stage} ${type}`;
  return (stage === 'write' || stage === 'enqueue') && typeof target === 'string' && target.length > 0 ? `${base} to ${target}` : base;
}
