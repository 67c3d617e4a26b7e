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
const APPEND = -1;
const INITIAL_ATTRIBUTE_SLOTS = 24;
const NO_ROOM = -2;

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
  name: string;
  readonly kind: SpanKind;
  readonly startUs: number;
  durationUs: number | undefined;
  status: SpanStatus;
  events: SpanEvent[];
  links: SpanLink[];
  readonly traceState: string | undefined;
  dropped: DroppedCounts | undefined;
  private readonly state: TracerState;
  /**
   * Attributes as they were set: key, value, key, value… Setting one is a push; validation of keys
   * against the redaction list and folding of repeated keys happen once, when `attributes` is read
   * (by an exporter, off the caller's path).
   */
  private attributeList: unknown[];
  private attributeLength: number;
  private materialized: Attributes | undefined;
  private childCount: number;
  /** `TRACE_FLAG_RANDOM` or 0, from the parent's flags. */
  private readonly randomFlag: number;

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
    randomFlag: number,
  ) {
    this.state = state;
    this.randomFlag = randomFlag;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.rpcid = rpcid;
    this.name = name;
    this.kind = kind;
    this.startUs = startUs;
    this.durationUs = undefined;
    this.status = STATUS_UNSET;
    this.events = NO_EVENTS;
    this.links = NO_LINKS;
    this.traceState = traceState;
    this.dropped = undefined;
    // Sized for 12 attributes up front: growing an empty array by pushes allocates twice.
    this.attributeList = new Array<unknown>(INITIAL_ATTRIBUTE_SLOTS);
    this.attributeLength = 0;
    this.materialized = undefined;
    this.childCount = 0;
  }

  // What every span of a tracer shares lives in its state, not in each span.
  get service(): string {
    return this.state.resource.service;
  }
  get instance(): string | undefined {
    return this.state.resource.instance;
  }
  get resource(): Attributes {
    return this.state.resource.attributes;
  }
  get scope(): InstrumentationScope | undefined {
    return this.state.scope;
  }
  /** Sampled, and the parent's W3C `random` flag when it had one. */
  get traceFlags(): number {
    return TRACE_FLAG_SAMPLED | this.randomFlag;
  }
  get isRemote(): boolean {
    return false;
  }

  /** The span's attributes, redacted and bounded; built once per change. */
  get attributes(): Attributes {
    return (this.materialized ??= this.materializeAttributes());
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
    const state = this.state;
    if (this.durationUs !== undefined) {
      state.counters.changesAfterEnd++;
      return this;
    }
    if (typeof key !== 'string' || key.length === 0) {
      state.counters.invalidAttributes++;
      return this;
    }
    let n = this.attributeLength;
    let slot = APPEND;
    if (n >= state.attributeListLimit) {
      slot = this.slotAtLimit(key);
      if (slot === NO_ROOM) {
        state.counters.attributesDropped++;
        this.countDropped('attributes');
        return this;
      }
      n = this.attributeLength; // folding repeated keys may have shortened the list
    }
    const type = typeof value;
    // Numbers, booleans and strings within the size limit are stored as they are; anything else is
    // checked (and bounded) now, so that a wrong type is counted where it happened.
    let stored: unknown = value;
    if (type !== 'number' && type !== 'boolean' && (type !== 'string' || (value as string).length > state.valueLengthLimit)) {
      stored = sanitizeOrUndefined(value, state);
      if (stored === undefined) {
        state.counters.invalidAttributes++;
        return this;
      }
    }
    const list = this.attributeList;
    if (slot === APPEND) {
      list[n] = key;
      list[n + 1] = stored;
      this.attributeLength = n + 2;
    } else {
      list[slot + 1] = stored;
    }
    this.materialized = undefined;
    return this;
  }

  /**
   * At the count limit: folds repeated keys (a key set twice holds two entries until now), then
   * returns APPEND if that made room, the index of `key` if it is already there, or NO_ROOM.
   */
  private slotAtLimit(key: string): number {
    const distinct = Object.keys(this.attributes);
    if (this.attributeLength !== distinct.length * 2) {
      const folded: unknown[] = [];
      for (const k of distinct) folded.push(k, this.rawValue(k));
      this.attributeList = folded;
      this.attributeLength = folded.length;
      this.materialized = undefined;
      if (folded.length < this.state.attributeListLimit) return APPEND;
    }
    const list = this.attributeList;
    for (let i = 0; i < this.attributeLength; i += 2) if (list[i] === key) return i;
    return NO_ROOM;
  }

  /** The last value set for `key`, before redaction. */
  private rawValue(key: string): unknown {
    const list = this.attributeList;
    for (let i = this.attributeLength - 2; i >= 0; i -= 2) if (list[i] === key) return list[i + 1];
    return undefined;
  }

  private materializeAttributes(): Attributes {
    const list = this.attributeList;
    const redactor = this.state.redactor;
    const out: Attributes = {};
    for (let i = 0; i < this.attributeLength; i += 2) {
      const key = list[i] as string;
      const value = list[i + 1] as AttributeValue;
      // Numbers and booleans are kept even under sensitive keys: counts such as `tokens_used` are
      // not secrets, and secrets are strings.
      out[key] = typeof value !== 'number' && typeof value !== 'boolean' && redactor.isSensitive(key) ? REDACTED : value;
    }
    return out;
  }

  setAttributes(attributes: Attributes): this {
    if (attributes === null || typeof attributes !== 'object') {
      this.state.counters.invalidAttributes++;
      return this;
    }
    try {
      for (const key in attributes) this.setAttribute(key, attributes[key]);
    } catch {
      // A proxy or an object with throwing getters: what was read so far is kept.
      this.state.counters.invalidAttributes++;
    }
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
    const event: SpanEvent = { timeUs: validTime(timeUs) ?? nowUs(), name: typeof name === 'string' ? name : safeString(name) };
    const bounded = this.boundedAttributes(attributes);
    if (bounded) event.attributes = bounded;
    this.events.push(event);
    return this;
  }

  addLink(context: SpanContext, attributes?: Attributes): this {
    if (!this.acceptsChanges()) return this;
    let traceId: unknown, spanId: unknown, traceState: unknown;
    try {
      if (context !== null && typeof context === 'object') ({ traceId, spanId, traceState } = context);
    } catch {
      // A context whose getters throw is no context.
    }
    if (typeof traceId !== 'string' || typeof spanId !== 'string') {
      this.state.counters.invalidAttributes++;
      return this;
    }
    if (this.links.length >= this.state.limits.linkCountLimit) {
      this.state.counters.linksDropped++;
      this.countDropped('links');
      return this;
    }
    if (this.links === NO_LINKS) this.links = [];
    const link: SpanLink = { traceId, spanId };
    if (typeof traceState === 'string' && traceState !== '') link.traceState = traceState;
    const bounded = this.boundedAttributes(attributes);
    if (bounded) link.attributes = bounded;
    this.links.push(link);
    return this;
  }

  /**
   * OpenTelemetry's rules (trace API, "Set Status"): `Ok > Error > Unset`. Ok is final; an error
   * replaces unset or an earlier error (the last call wins); an attempt to set unset is ignored.
   */
  setStatus(code: StatusCode, message?: string): this {
    if (!this.acceptsChanges()) return this;
    if (this.status.code === 'ok') return this;
    if (code === 'error') {
      this.status = typeof message === 'string' && message.length > 0 ? { code, message } : { code };
    } else if (code === 'ok') {
      this.status = STATUS_OK;
    } else if (code !== 'unset') {
      this.state.counters.invalidAttributes++;
    }
    return this;
  }

  recordException(error: unknown, timeUs?: number): this {
    if (!this.acceptsChanges()) return this;
    const attributes: Attributes = {};
    try {
      if (error instanceof Error) {
        attributes['exception.type'] = error.name || error.constructor?.name || 'Error';
        attributes['exception.message'] = error.message;
        if (typeof error.stack === 'string') attributes['exception.stacktrace'] = error.stack;
      } else {
        attributes['exception.type'] = typeof error;
        attributes['exception.message'] = safeString(error);
      }
    } catch {
      // An error object whose getters throw: what could be read is recorded.
      this.state.counters.invalidAttributes++;
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
    try {
      if (state.sampler.onSampledSpanEnd !== undefined) state.sampler.onSampledSpanEnd();
    } catch (error) {
      state.guard.caught('sampler.onSampledSpanEnd', error);
    }
    try {
      state.processor.onEnd(this);
    } catch (error) {
      state.guard.caught('span processor onEnd', error);
    }
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
    let keys: string[];
    try {
      keys = Object.keys(attributes);
    } catch {
      counters.invalidAttributes++;
      return undefined;
    }
    for (const key of keys) {
      const value = sanitizeOrUndefined(readOrUndefined(attributes, key), this.state);
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

/** `sanitizeAttributeValue`, with a hostile value (a proxy array whose elements throw) as invalid. */
function sanitizeOrUndefined(value: unknown, state: TracerState): AttributeValue | undefined {
  try {
    return sanitizeAttributeValue(value, state.limits, state.counters);
  } catch {
    return undefined;
  }
}

function readOrUndefined(attributes: Attributes, key: string): unknown {
  try {
    return attributes[key];
  } catch {
    return undefined;
  }
}
