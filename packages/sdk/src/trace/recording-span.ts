import type {
  Attributes,
  AttributeValue,
  DroppedCounts,
  InstrumentationScope,
  Span,
  SpanEvent,
  SpanKind,
  SpanLink,
  SpanStatus,
  StatusCode,
} from '@linktrace/model';
import { TRACE_FLAG_SAMPLED, type SpanContext } from '../types.js';
import { sanitizeAttributeValue } from './attribute-value.js';
import { nowUs } from './clock.js';
import { REDACTED } from './redaction.js';
import type { SpanHandle } from './span-handle.js';
import type { TracerState } from './tracer-state.js';

const NO_EVENTS: SpanEvent[] = Object.freeze([]) as unknown as SpanEvent[];
const NO_LINKS: SpanLink[] = Object.freeze([]) as unknown as SpanLink[];
const STATUS_UNSET: SpanStatus = Object.freeze({ code: 'unset' });
const STATUS_OK: SpanStatus = Object.freeze({ code: 'ok' });

/**
 * A sampled span. It is itself a model `Span` (exporters encode it as it is, no copy) and a
 * `SpanContext` (it is handed to samplers and propagators as it is). Every field is assigned in the
 * constructor so that all spans share one hidden class.
 */
export class RecordingSpan implements Span, SpanHandle {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly rpcid: string;
  readonly service: string;
  readonly instance: string | undefined;
  name: string;
  readonly kind: SpanKind;
  readonly startUs: number;
  durationUs: number | undefined;
  status: SpanStatus;
  readonly attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  readonly traceState: string | undefined;
  readonly resource: Attributes;
  readonly scope: InstrumentationScope | undefined;
  dropped: DroppedCounts | undefined;
  readonly traceFlags: number;
  readonly isRemote = false;
  private readonly state: TracerState;
  private attributeCount: number;
  private childCount: number;

  constructor(
    state: TracerState,
    name: string,
    kind: SpanKind,
    traceId: string,
    spanId: string,
    parentSpanId: string | undefined,
    rpcid: string,
    traceState: string | undefined,
    startUs: number,
  ) {
    this.state = state;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.rpcid = rpcid;
    this.service = state.resource.service;
    this.instance = state.resource.instance;
    this.name = name;
    this.kind = kind;
    this.startUs = startUs;
    this.durationUs = undefined;
    this.status = STATUS_UNSET;
    this.attributes = {};
    this.events = NO_EVENTS;
    this.links = NO_LINKS;
    this.traceState = traceState;
    this.resource = state.resource.attributes;
    this.scope = state.scope;
    this.dropped = undefined;
    this.traceFlags = TRACE_FLAG_SAMPLED;
    this.attributeCount = 0;
    this.childCount = 0;
  }

  isRecording(): boolean {
    return this.durationUs === undefined;
  }

  spanContext(): SpanContext {
    return {
      traceId: this.traceId,
      spanId: this.spanId,
      traceFlags: this.traceFlags,
      traceState: this.traceState,
      rpcid: this.rpcid,
    };
  }

  nextChildIndex(): number {
    return ++this.childCount;
  }

  setAttribute(key: string, value: AttributeValue | null | undefined): this {
    const counters = this.state.counters;
    if (this.durationUs !== undefined) {
      counters.changesAfterEnd++;
      return this;
    }
    if (typeof key !== 'string' || key.length === 0) {
      counters.invalidAttributes++;
      return this;
    }
    // Fast path for the common cases; arrays, bytes and long strings go through the full check.
    let bounded: AttributeValue | undefined;
    const type = typeof value;
    if (type === 'number' || type === 'boolean') bounded = value as number | boolean;
    else if (type === 'string' && (value as string).length <= this.state.limits.attributeValueLengthLimit) {
      bounded = this.state.redactor.isSensitive(key) ? redacted(counters) : (value as string);
    } else {
      bounded = sanitizeAttributeValue(value, this.state.limits, counters);
      if (bounded === undefined) {
        counters.invalidAttributes++;
        return this;
      }
      // Numbers and booleans are kept even under sensitive keys: counts such as `tokens_used` are
      // not secrets, and secrets are strings.
      if (typeof bounded !== 'number' && typeof bounded !== 'boolean' && this.state.redactor.isSensitive(key)) {
        bounded = redacted(counters);
      }
    }
    const attributes = this.attributes;
    if (attributes[key] === undefined) {
      if (this.attributeCount >= this.state.limits.attributeCountLimit) {
        counters.attributesDropped++;
        this.countDropped('attributes');
        return this;
      }
      this.attributeCount++;
    }
    attributes[key] = bounded;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (attributes === null || typeof attributes !== 'object') {
      this.state.counters.invalidAttributes++;
      return this;
    }
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributes?: Attributes, timeUs?: number): this {
    if (!this.acceptsChanges()) return this;
    if (this.events.length >= this.state.limits.eventCountLimit) {
      this.state.counters.eventsDropped++;
      this.countDropped('events');
      return this;
    }
    if (this.events === NO_EVENTS) this.events = [];
    const event: SpanEvent = { timeUs: validTime(timeUs) ?? nowUs(), name: String(name) };
    const bounded = this.boundedAttributes(attributes);
    if (bounded) event.attributes = bounded;
    this.events.push(event);
    return this;
  }

  addLink(context: SpanContext, attributes?: Attributes): this {
    if (!this.acceptsChanges()) return this;
    if (!context || typeof context.traceId !== 'string' || typeof context.spanId !== 'string') {
      this.state.counters.invalidAttributes++;
      return this;
    }
    if (this.links.length >= this.state.limits.linkCountLimit) {
      this.state.counters.linksDropped++;
      this.countDropped('links');
      return this;
    }
    if (this.links === NO_LINKS) this.links = [];
    const link: SpanLink = { traceId: context.traceId, spanId: context.spanId };
    if (context.traceState) link.traceState = context.traceState;
    const bounded = this.boundedAttributes(attributes);
    if (bounded) link.attributes = bounded;
    this.links.push(link);
    return this;
  }

  setStatus(code: StatusCode, message?: string): this {
    if (!this.acceptsChanges()) return this;
    // OK is final; an error may be raised over unset but does not override a deliberate OK.
    if (this.status.code === 'ok') return this;
    if (code === 'error') {
      this.status = typeof message === 'string' && message.length > 0 ? { code, message } : { code };
    } else if (code === 'ok') {
      this.status = STATUS_OK;
    } else if (code === 'unset') {
      this.status = STATUS_UNSET;
    } else {
      this.state.counters.invalidAttributes++;
    }
    return this;
  }

  recordException(error: unknown, timeUs?: number): this {
    if (!this.acceptsChanges()) return this;
    const attributes: Attributes = {};
    if (error instanceof Error) {
      attributes['exception.type'] = error.name || error.constructor?.name || 'Error';
      attributes['exception.message'] = error.message;
      if (typeof error.stack === 'string') attributes['exception.stacktrace'] = error.stack;
    } else {
      attributes['exception.type'] = typeof error;
      attributes['exception.message'] = safeString(error);
    }
    return this.addEvent('exception', attributes, timeUs);
  }

  updateName(name: string): this {
    if (!this.acceptsChanges()) return this;
    if (typeof name === 'string' && name.length > 0) this.name = name;
    return this;
  }

  end(endTimeUs?: number): void {
    if (this.durationUs !== undefined) {
      this.state.counters.endedTwice++;
      return;
    }
    const end = endTimeUs === undefined ? nowUs() : (validTime(endTimeUs) ?? nowUs());
    this.durationUs = end > this.startUs ? end - this.startUs : 0;
    const state = this.state;
    if (state.sampler.onSampledSpanEnd !== undefined) state.sampler.onSampledSpanEnd();
    state.processor.onEnd(this);
  }

  private acceptsChanges(): boolean {
    if (this.durationUs === undefined) return true;
    this.state.counters.changesAfterEnd++;
    return false;
  }

  private countDropped(what: keyof DroppedCounts): void {
    const dropped = (this.dropped ??= {});
    dropped[what] = (dropped[what] ?? 0) + 1;
  }

  /** Event and link attributes: same value rules, their own count limit. */
  private boundedAttributes(attributes: Attributes | undefined): Attributes | undefined {
    if (attributes === undefined || attributes === null || typeof attributes !== 'object') return undefined;
    const { limits, counters, redactor } = this.state;
    let out: Attributes | undefined;
    let count = 0;
    for (const key in attributes) {
      const value = sanitizeAttributeValue(attributes[key], limits, counters);
      if (value === undefined) {
        counters.invalidAttributes++;
        continue;
      }
      if (count >= limits.attributePerEventCountLimit) {
        counters.attributesDropped++;
        continue;
      }
      (out ??= {})[key] = typeof value !== 'number' && typeof value !== 'boolean' && redactor.isSensitive(key) ? REDACTED : value;
      count++;
    }
    return out;
  }
}

function redacted(counters: TracerState['counters']): string {
  counters.attributesRedacted++;
  return REDACTED;
}

function validTime(timeUs: number | undefined): number | undefined {
  return typeof timeUs === 'number' && Number.isFinite(timeUs) && timeUs >= 0 ? Math.floor(timeUs) : undefined;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}
