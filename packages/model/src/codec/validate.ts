/**
 * The validation rules every decoder applies, in one place, so that a span accepted on one wire
 * format would be accepted on any other. Each check returns a problem description (naming the field)
 * or undefined when the value is fine; decoders turn a problem into a rejected span.
 */
import { SPAN_KINDS, type Attributes, type Span, type SpanKind } from '../span.js';
import { normalizeHexId } from './hex.js';
import { isValidSpanId, isValidTraceId } from '../ids.js';
import { isValidRpcid, rpcidProblem } from '../rpcid.js';

/** Sanity bounds: generous for real spans, small enough that one span cannot exhaust the server. */
export const LIMITS = {
  /** Attributes in one map (span, event, link, resource, scope). */
  maxAttributes: 1024,
  maxKeyLength: 1024,
  /** UTF-16 code units in one string value (also the span name and event names). */
  maxStringLength: 131072,
  maxArrayLength: 1024,
  /** Bytes in one `bytesValue` attribute. */
  maxBytesLength: 131072,
  maxEvents: 1024,
  maxLinks: 1024,
} as const;

/** The service name of a span whose producer did not set one (OpenTelemetry's default). */
export const UNKNOWN_SERVICE = 'unknown_service';

/** 32 hex (W3C) or 16 hex (Zipkin 64-bit), either case, not all zero -> lowercase; else undefined. */
export function normalizeTraceId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length === 32 || value.length === 16 ? normalizeHexId(value, value.length) : undefined;
}

/** 16 hex, either case, not all zero -> lowercase; else undefined. */
export function normalizeSpanId(value: unknown): string | undefined {
  return normalizeHexId(value, 16);
}

/** Lowercase 32 or 16 hex, not all zero: a trace id as the model holds it. */
export function isTraceId(value: unknown): value is string {
  return isValidTraceId(value, true);
}

/** Lowercase 16 hex, not all zero. */
export function isSpanId(value: unknown): value is string {
  return isValidSpanId(value);
}

/** A position id within the rules and bounds of rpcid.ts (`rpcidProblem` says why not). */
export const isRpcid: (value: unknown) => value is string = isValidRpcid;

export function isSpanKind(value: unknown): value is SpanKind {
  return typeof value === 'string' && (SPAN_KINDS as readonly string[]).includes(value);
}

/** µs since epoch or a µs duration: a finite, non-negative number exactly representable as an integer bound. */
export function isValidMicros(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
}

function isScalar(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean';
}

/** Checks the types and sizes of an attribute map; `field` names it in the message. */
export function checkAttributes(attrs: unknown, field: string): string | undefined {
  if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) return `${field}: not an object`;
  let count = 0;
  for (const key in attrs) {
    if (++count > LIMITS.maxAttributes) return `${field}: more than ${LIMITS.maxAttributes} attributes`;
    if (key.length > LIMITS.maxKeyLength) return `${field}: key longer than ${LIMITS.maxKeyLength}`;
    const problem = checkAttributeValue((attrs as Record<string, unknown>)[key]);
    if (problem !== undefined) return `${field}.${key}: ${problem}`;
  }
  return undefined;
}

/** Checks one attribute value: a scalar, an array of scalars, or bytes, within LIMITS. */
export function checkAttributeValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > LIMITS.maxStringLength ? 'string too long' : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return undefined;
  if (v instanceof Uint8Array) return v.length > LIMITS.maxBytesLength ? 'bytes too long' : undefined;
  if (Array.isArray(v)) {
    if (v.length > LIMITS.maxArrayLength) return 'array too long';
    for (const item of v as unknown[]) {
      if (!isScalar(item)) return 'array item is not a string, number or boolean';
      if (typeof item === 'string' && item.length > LIMITS.maxStringLength) return 'string too long';
    }
    return undefined;
  }
  return v === null ? 'null value' : 'not a string, number, boolean, array or bytes';
}

function checkOptionalString(v: unknown, field: string, max: number = LIMITS.maxStringLength): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return `${field}: not a string`;
  return v.length > max ? `${field}: too long` : undefined;
}

/**
 * What is wrong with a span: `field` is the part at fault as a path into the span (`traceId`,
 * `attributes.key`, `events[2]`, `status`; empty for the span itself), `message` the problem naming
 * the field exactly, e.g. `events[2].timeUs: not a non-negative number of µs`.
 */
export interface SpanProblem {
  field: string;
  message: string;
}

const problem = (field: string, message: string): SpanProblem => ({ field, message });

/** An attribute map's problem, at the key at fault when there is one. */
function attributesProblem(attrs: unknown, field: string): SpanProblem | undefined {
  const message = checkAttributes(attrs, field);
  if (message === undefined) return undefined;
  const key = message.slice(0, message.indexOf(': '));
  return problem(key.startsWith(`${field}.`) ? key : field, message);
}

/**
 * Full check of a model span: the one rule set every decoder applies and the stores enforce (their
 * `validateSpan` wraps this), and what tests use to assert that any decoder's output is valid.
 * Returns the first problem found, naming its field; accepts any value (not only span-shaped ones).
 */
export function findSpanProblem(value: unknown): SpanProblem | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return problem('', 'span: not an object');
  const span = value as Span;
  if (!isTraceId(span.traceId)) return problem('traceId', 'traceId: not 32 or 16 lowercase hex, or all zero');
  if (!isSpanId(span.spanId)) return problem('spanId', 'spanId: not 16 lowercase hex, or all zero');
  if (span.parentSpanId !== undefined && !isSpanId(span.parentSpanId)) return problem('parentSpanId', 'parentSpanId: not 16 lowercase hex, or all zero');
  if (span.rpcid !== undefined && !isRpcid(span.rpcid)) return problem('rpcid', `rpcid: ${rpcidProblem(span.rpcid)}`);
  if (typeof span.service !== 'string' || span.service.length === 0) return problem('service', 'service: missing');
  if (span.service.length > LIMITS.maxKeyLength) return problem('service', 'service: too long');
  let p = optionalStringProblem(span.instance, 'instance', LIMITS.maxKeyLength);
  if (p !== undefined) return p;
  if (typeof span.name !== 'string') return problem('name', 'name: missing');
  if (span.name.length > LIMITS.maxStringLength) return problem('name', 'name: too long');
  if (!isSpanKind(span.kind)) return problem('kind', 'kind: not one of internal, server, client, producer, consumer');
  if (!isValidMicros(span.startUs) || (span.startUs === 0 && span.startUnknown !== true)) return problem('startUs', 'startUs: not a positive number of µs');
  if (span.durationUs !== undefined && !isValidMicros(span.durationUs)) return problem('durationUs', 'durationUs: not a non-negative number of µs');
  const status = span.status as unknown;
  if (status === null || typeof status !== 'object') return problem('status', 'status: not an object');
  const code = span.status.code as unknown;
  if (code !== 'unset' && code !== 'ok' && code !== 'error') return problem('status', 'status.code: not unset, ok or error');
  p = optionalStringProblem(span.status.message, 'status.message');
  if (p !== undefined) return p;
  p = attributesProblem(span.attributes, 'attributes');
  if (p !== undefined) return p;
  if (!Array.isArray(span.events)) return problem('events', 'events: not an array');
  if (span.events.length > LIMITS.maxEvents) return problem('events', 'events: too many');
  for (let i = 0; i < span.events.length; i++) {
    p = eventProblem(span.events[i], `events[${i}]`);
    if (p !== undefined) return p;
  }
  if (!Array.isArray(span.links)) return problem('links', 'links: not an array');
  if (span.links.length > LIMITS.maxLinks) return problem('links', 'links: too many');
  for (let i = 0; i < span.links.length; i++) {
    const at = `links[${i}]`;
    const link = span.links[i] as unknown as Record<string, unknown> | null;
    if (link === null || typeof link !== 'object') return problem(at, `${at}: not an object`);
    if (!isTraceId(link.traceId)) return problem(at, `${at}.traceId: invalid`);
    if (!isSpanId(link.spanId)) return problem(at, `${at}.spanId: invalid`);
    p = optionalStringProblem(link.traceState, `${at}.traceState`);
    if (p === undefined && link.attributes !== undefined) p = attributesProblem(link.attributes, `${at}.attributes`);
    if (p !== undefined) return p;
  }
  p = optionalStringProblem(span.traceState, 'traceState');
  if (p === undefined && span.resource !== undefined) p = attributesProblem(span.resource, 'resource');
  if (p === undefined && span.scope !== undefined) p = scopeProblem(span.scope);
  if (p === undefined && span.remote !== undefined) p = wrap('remote', checkEndpoint(span.remote));
  if (p === undefined && span.shared !== undefined && typeof span.shared !== 'boolean') p = problem('shared', 'shared: not a boolean');
  if (p === undefined && span.debug !== undefined && typeof span.debug !== 'boolean') p = problem('debug', 'debug: not a boolean');
  if (p === undefined && span.startUnknown !== undefined && typeof span.startUnknown !== 'boolean') p = problem('startUnknown', 'startUnknown: not a boolean');
  if (p === undefined && span.durationUnknown !== undefined && typeof span.durationUnknown !== 'boolean') p = problem('durationUnknown', 'durationUnknown: not a boolean');
  if (p === undefined && span.durationUnknown === true && span.durationUs !== undefined) p = problem('durationUnknown', 'durationUnknown: set on a span with a duration');
  if (p === undefined && span.doubleKeys !== undefined) p = wrap('doubleKeys', checkDoubleKeys(span.doubleKeys));
  if (p === undefined && span.dropped !== undefined) p = wrap('dropped', checkDropped(span.dropped));
  return p;
}

/** `findSpanProblem`'s message: what the decoders report for a rejected span. */
export function validateSpan(span: Span): string | undefined {
  return findSpanProblem(span)?.message;
}

function wrap(field: string, message: string | undefined): SpanProblem | undefined {
  return message === undefined ? undefined : problem(field, message);
}

function optionalStringProblem(v: unknown, field: string, max?: number): SpanProblem | undefined {
  return wrap(field, checkOptionalString(v, field, max));
}

function eventProblem(event: unknown, field: string): SpanProblem | undefined {
  if (event === null || typeof event !== 'object') return problem(field, `${field}: not an object`);
  const e = event as Record<string, unknown>;
  if (!isValidMicros(e.timeUs)) return problem(field, `${field}.timeUs: not a non-negative number of µs`);
  if (typeof e.name !== 'string') return problem(field, `${field}.name: not a string`);
  if (e.name.length > LIMITS.maxStringLength) return problem(field, `${field}.name: too long`);
  return e.attributes === undefined ? undefined : attributesProblem(e.attributes, `${field}.attributes`);
}

function scopeProblem(scope: unknown): SpanProblem | undefined {
  if (scope === null || typeof scope !== 'object') return problem('scope', 'scope: not an object');
  const s = scope as Record<string, unknown>;
  if (typeof s.name !== 'string') return problem('scope', 'scope.name: not a string');
  const p = optionalStringProblem(s.version, 'scope.version');
  if (p !== undefined) return p;
  return s.attributes === undefined ? undefined : attributesProblem(s.attributes, 'scope.attributes');
}

function checkEndpoint(remote: unknown): string | undefined {
  if (remote === null || typeof remote !== 'object') return 'remote: not an object';
  const r = remote as Record<string, unknown>;
  const p =
    checkOptionalString(r.service, 'remote.service', LIMITS.maxKeyLength) ??
    checkOptionalString(r.ipv4, 'remote.ipv4', 64) ??
    checkOptionalString(r.ipv6, 'remote.ipv6', 64);
  if (p !== undefined) return p;
  return r.port === undefined || isPort(r.port) ? undefined : 'remote.port: not an integer in 0..65535';
}

export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

function checkDoubleKeys(keys: unknown): string | undefined {
  if (!Array.isArray(keys)) return 'doubleKeys: not an array';
  if (keys.length > LIMITS.maxAttributes) return 'doubleKeys: too many';
  for (const k of keys as unknown[]) if (typeof k !== 'string') return 'doubleKeys: not all strings';
  return undefined;
}

function checkDropped(dropped: unknown): string | undefined {
  if (dropped === null || typeof dropped !== 'object') return 'dropped: not an object';
  const d = dropped as Record<string, unknown>;
  for (const k of ['attributes', 'events', 'links']) {
    const v = d[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      return `dropped.${k}: not a count`;
    }
  }
  return undefined;
}

/** Attributes with no keys are represented as absent in the model (keeps round trips canonical). */
export function isEmpty(attrs: Attributes | undefined): boolean {
  if (attrs === undefined) return true;
  for (const _ in attrs) return false;
  return true;
}
