/**
 * OTLP/HTTP JSON -> model, following the OTLP JSON mapping: hex ids in either case, 64-bit integers
 * as strings or numbers, enums as integers or names, unknown fields ignored, `null` read as absent.
 * A bad span is rejected and counted; a body without the request's shape throws CodecError.
 */
import { Buffer } from 'node:buffer';
import type { AttributeScalar, AttributeValue, Attributes, InstrumentationScope, Span, SpanEvent, SpanLink } from '../span.js';
import { CodecError } from './codec-error.js';
import { setOwn } from './set-own.js';
import { newDecodeResult, rejectSpan, type DecodeResult } from './decode-result.js';
import { FieldError, fail } from './field-error.js';
import { KIND_FROM_OTLP, KIND_NAMES, STATUS_FROM_OTLP, STATUS_NAMES } from './otlp-enums.js';
import { nanoStringToMicros } from './nanos.js';
import { LIMITS, UNKNOWN_SERVICE, normalizeSpanId, normalizeTraceId } from './validate.js';
import { RESOURCE_ATTR, takeWireAttribute, type WireFields } from './wire-attributes.js';

const FORMAT = 'otlp-json';
/** Nesting allowed inside kvlistValue / arrayValue before the value is refused (stack safety). */
const MAX_VALUE_DEPTH = 16;
const INT64_RE = /^-?\d{1,19}$/;
const DOUBLE_RE = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Set by anyValue when it read an integral `doubleValue` (the key then goes to doubleKeys). */
let sawIntegralDouble = false;

function intValue(v: unknown, field: string): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v;
    return fail(field, 'intValue is not an integer');
  }
  if (typeof v === 'string' && INT64_RE.test(v)) return Number(v);
  return fail(field, 'intValue is not a 64-bit integer');
}

function doubleValue(v: unknown, field: string): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (v === 'NaN') n = NaN;
  else if (v === 'Infinity') n = Infinity;
  else if (v === '-Infinity') n = -Infinity;
  else if (typeof v === 'string' && DOUBLE_RE.test(v)) n = Number(v);
  else return fail(field, 'doubleValue is not a number');
  if (Number.isInteger(n)) sawIntegralDouble = true;
  return n;
}

function bytesValue(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !BASE64_RE.test(v)) return fail(field, 'bytesValue is not base64');
  if (v.length > (LIMITS.maxBytesLength * 4) / 3 + 4) return fail(field, 'bytes too long', 'attribute_too_large');
  const buf = Buffer.from(v, 'base64');
  return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

function stringValue(v: unknown, field: string): string {
  if (typeof v !== 'string') return fail(field, 'stringValue is not a string');
  if (v.length > LIMITS.maxStringLength) return fail(field, 'string too long', 'attribute_too_large');
  return v;
}

/** A scalar AnyValue, or undefined if it holds none of the scalar kinds. */
function scalar(v: Obj, field: string): AttributeScalar | undefined {
  if (v.stringValue != null) return stringValue(v.stringValue, field);
  if (v.intValue != null) return intValue(v.intValue, field);
  if (v.boolValue != null) {
    if (typeof v.boolValue !== 'boolean') return fail(field, 'boolValue is not a boolean');
    return v.boolValue;
  }
  if (v.doubleValue != null) return doubleValue(v.doubleValue, field);
  return undefined;
}

/** Nested values the model cannot hold (kvlists, arrays of arrays) become plain JSON. */
function toPlain(v: unknown, field: string, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH) return fail(field, 'value nested too deeply');
  if (!isObject(v)) return null;
  const s = scalar(v, field);
  if (s !== undefined) return Number.isFinite(s) || typeof s !== 'number' ? s : String(s);
  if (v.bytesValue != null) return Buffer.from(bytesValue(v.bytesValue, field)).toString('base64');
  if (v.arrayValue != null) {
    const values = isObject(v.arrayValue) ? v.arrayValue.values : undefined;
    if (values == null) return [];
    if (!Array.isArray(values) || values.length > LIMITS.maxArrayLength) return fail(field, 'arrayValue.values is not a bounded array');
    return values.map((x) => toPlain(x, field, depth + 1));
  }
  if (v.kvlistValue != null) {
    const values = isObject(v.kvlistValue) ? v.kvlistValue.values : undefined;
    const out: Obj = {};
    if (values == null) return out;
    if (!Array.isArray(values) || values.length > LIMITS.maxAttributes) return fail(field, 'kvlistValue.values is not a bounded array');
    for (const kv of values) {
      if (!isObject(kv) || typeof kv.key !== 'string') return fail(field, 'kvlistValue entry has no key');
      setOwn(out, kv.key, toPlain(kv.value, field, depth + 1));
    }
    return out;
  }
  return null;
}

/** AnyValue -> attribute value; undefined for an empty AnyValue (the attribute is skipped). */
function anyValue(v: unknown, field: string): AttributeValue | undefined {
  if (v == null) return undefined;
  if (!isObject(v)) return fail(field, 'value is not an AnyValue object');
  const s = scalar(v, field);
  if (s !== undefined) return s;
  if (v.arrayValue != null) {
    if (!isObject(v.arrayValue)) return fail(field, 'arrayValue is not an object');
    const values = v.arrayValue.values;
    if (values == null) return [];
    if (!Array.isArray(values)) return fail(field, 'arrayValue.values is not an array');
    if (values.length > LIMITS.maxArrayLength) return fail(field, 'array too long');
    const out: AttributeScalar[] = new Array<AttributeScalar>(values.length);
    for (let i = 0; i < values.length; i++) {
      const item: unknown = values[i];
      const sv = isObject(item) ? scalar(item, field) : undefined;
      out[i] = sv !== undefined ? sv : plainJson(item, field, 1);
    }
    return out;
  }
  if (v.bytesValue != null) return bytesValue(v.bytesValue, field);
  if (v.kvlistValue != null) return plainJson(v, field, 0);
  return undefined;
}

/** JSON text of a nested value; integral doubles inside it do not make the key a double key. */
function plainJson(v: unknown, field: string, depth: number): string {
  const saw = sawIntegralDouble;
  const text = JSON.stringify(toPlain(v, field, depth));
  sawIntegralDouble = saw;
  return text;
}

/**
 * A KeyValue list -> attributes. With `doubles`, keys of integral doubles are collected; with
 * `wire`, linktrace.* wire attributes are taken out into it.
 */
function keyValues(list: unknown, field: string, doubles?: string[], wire?: WireFields): Attributes {
  const out: Attributes = {};
  if (list == null) return out;
  if (!Array.isArray(list)) return fail(field, 'not an array');
  if (list.length > LIMITS.maxAttributes) return fail(field, `more than ${LIMITS.maxAttributes} attributes`, 'too_many_attributes');
  for (let i = 0; i < list.length; i++) {
    const kv: unknown = list[i];
    if (!isObject(kv) || typeof kv.key !== 'string') return fail(`${field}[${i}]`, 'not a KeyValue with a string key');
    const key = kv.key;
    if (key.length > LIMITS.maxKeyLength) return fail(`${field}[${i}]`, 'key too long');
    sawIntegralDouble = false;
    const value = anyValue(kv.value, `${field}.${key}`);
    if (value === undefined) continue;
    if (wire !== undefined && key.startsWith('linktrace.') && takeWireAttribute(wire, key, value)) continue;
    setOwn(out, key, value);
    if (doubles !== undefined && sawIntegralDouble) doubles.push(key);
  }
  return out;
}

/** uint32 counts (droppedAttributesCount, …): number or decimal string. */
function count(v: unknown, field: string): number {
  if (v == null) return 0;
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) return fail(field, 'not a uint32');
  return n;
}

/** A fixed64 ns time (string or number) -> µs; 0 when absent. */
function nanos(v: unknown, field: string): number {
  if (v == null) return 0;
  if (typeof v === 'string') {
    const us = nanoStringToMicros(v);
    if (us < 0) return fail(field, 'not a uint64 ns time');
    return us;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v / 1000 <= Number.MAX_SAFE_INTEGER) return Math.floor(v / 1000);
  return fail(field, 'not a uint64 ns time within range');
}

function enumValue(v: unknown, names: readonly string[], field: string): number {
  if (v == null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
  }
  return fail(field, `not one of ${names.join(', ')} (or 0-${names.length - 1})`);
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v == null || v === '') return undefined;
  if (typeof v !== 'string') return fail(field, 'not a string');
  if (v.length > LIMITS.maxStringLength) return fail(field, 'too long');
  return v;
}

function nonEmpty(attrs: Attributes): Attributes | undefined {
  for (const _ in attrs) return attrs;
  return undefined;
}

interface ResourceInfo {
  service: string;
  instance: string | undefined;
  resource: Attributes | undefined;
}

function decodeResource(r: unknown): ResourceInfo {
  if (r == null) return { service: UNKNOWN_SERVICE, instance: undefined, resource: undefined };
  if (!isObject(r)) return fail('resource', 'not an object');
  const attrs = keyValues(r.attributes, 'resource.attributes');
  const name = attrs[RESOURCE_ATTR.serviceName];
  const instance = attrs[RESOURCE_ATTR.instanceId];
  delete attrs[RESOURCE_ATTR.serviceName];
  delete attrs[RESOURCE_ATTR.instanceId];
  return {
    service: typeof name === 'string' && name !== '' ? name : UNKNOWN_SERVICE,
    instance: typeof instance === 'string' && instance !== '' ? instance : undefined,
    resource: nonEmpty(attrs),
  };
}

function decodeScope(s: unknown): InstrumentationScope | undefined {
  if (s == null) return undefined;
  if (!isObject(s)) return fail('scope', 'not an object');
  const name = s.name == null ? '' : s.name;
  if (typeof name !== 'string') return fail('scope.name', 'not a string');
  const version = optionalString(s.version, 'scope.version');
  const attributes = nonEmpty(keyValues(s.attributes, 'scope.attributes'));
  if (name === '' && version === undefined && attributes === undefined) return undefined;
  const scope: InstrumentationScope = { name };
  if (version !== undefined) scope.version = version;
  if (attributes !== undefined) scope.attributes = attributes;
  return scope;
}

function decodeEvents(list: unknown): SpanEvent[] {
  if (list == null) return [];
  if (!Array.isArray(list)) return fail('events', 'not an array');
  if (list.length > LIMITS.maxEvents) return fail('events', 'too many');
  const out = new Array<SpanEvent>(list.length);
  for (let i = 0; i < list.length; i++) {
    const e: unknown = list[i];
    if (!isObject(e)) return fail(`events[${i}]`, 'not an object');
    if (e.timeUnixNano == null) return fail(`events[${i}].timeUnixNano`, 'missing');
    const event: SpanEvent = { timeUs: nanos(e.timeUnixNano, `events[${i}].timeUnixNano`), name: optionalString(e.name, `events[${i}].name`) ?? '' };
    const attributes = nonEmpty(keyValues(e.attributes, `events[${i}].attributes`));
    if (attributes !== undefined) event.attributes = attributes;
    out[i] = event;
  }
  return out;
}

/** Links with invalid ids are dropped and counted (a bad link should not cost the span). */
function decodeLinks(list: unknown, dropped: { links: number }): SpanLink[] {
  if (list == null) return [];
  if (!Array.isArray(list)) return fail('links', 'not an array');
  if (list.length > LIMITS.maxLinks) return fail('links', 'too many');
  const out: SpanLink[] = [];
  for (let i = 0; i < list.length; i++) {
    const l: unknown = list[i];
    if (!isObject(l)) return fail(`links[${i}]`, 'not an object');
    const traceId = normalizeTraceId(l.traceId);
    const spanId = normalizeSpanId(l.spanId);
    if (traceId === undefined || spanId === undefined) {
      dropped.links++;
      continue;
    }
    const link: SpanLink = { traceId, spanId };
    const traceState = optionalString(l.traceState, `links[${i}].traceState`);
    if (traceState !== undefined) link.traceState = traceState;
    const attributes = nonEmpty(keyValues(l.attributes, `links[${i}].attributes`));
    if (attributes !== undefined) link.attributes = attributes;
    out.push(link);
  }
  return out;
}

function decodeSpan(s: Obj, res: ResourceInfo, scope: InstrumentationScope | undefined): Span {
  const traceId = normalizeTraceId(s.traceId);
  if (traceId === undefined) return fail('traceId', 'not 32 (or 16) hex digits, or all zero');
  const spanId = normalizeSpanId(s.spanId);
  if (spanId === undefined) return fail('spanId', 'not 16 hex digits, or all zero');
  let parentSpanId: string | undefined;
  const p = s.parentSpanId;
  if (p != null && p !== '' && p !== '0000000000000000') {
    parentSpanId = normalizeSpanId(p);
    if (parentSpanId === undefined) return fail('parentSpanId', 'not 16 hex digits');
  }
  if (typeof s.name !== 'string') return fail('name', s.name == null ? 'missing' : 'not a string');
  if (s.name.length > LIMITS.maxStringLength) return fail('name', 'too long');
  const kind = KIND_FROM_OTLP[enumValue(s.kind, KIND_NAMES, 'kind')];
  const startUs = nanos(s.startTimeUnixNano, 'startTimeUnixNano');
  const endUs = nanos(s.endTimeUnixNano, 'endTimeUnixNano');

  const doubles: string[] = [];
  const wire: WireFields = {};
  const attributes = keyValues(s.attributes, 'attributes', doubles, wire);
  if (startUs === 0 && wire.startUnknown !== true) return fail('startTimeUnixNano', 'missing or zero');
  if (endUs !== 0 && endUs < startUs) return fail('endTimeUnixNano', 'before startTimeUnixNano');
  const droppedCounts = { attributes: count(s.droppedAttributesCount, 'droppedAttributesCount'), events: count(s.droppedEventsCount, 'droppedEventsCount'), links: count(s.droppedLinksCount, 'droppedLinksCount') };
  const events = decodeEvents(s.events);
  const links = decodeLinks(s.links, droppedCounts);

  let code = 0;
  let message: string | undefined;
  const st = s.status;
  if (st != null) {
    if (!isObject(st)) return fail('status', 'not an object');
    code = enumValue(st.code, STATUS_NAMES, 'status.code');
    message = optionalString(st.message, 'status.message');
  }
  const traceState = optionalString(s.traceState, 'traceState');

  const span: Span = {
    traceId,
    spanId,
    service: res.service,
    name: s.name,
    kind,
    startUs,
    status: message === undefined ? { code: STATUS_FROM_OTLP[code] } : { code: STATUS_FROM_OTLP[code], message },
    attributes,
    events,
    links,
  };
  if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
  if (wire.rpcid !== undefined) span.rpcid = wire.rpcid;
  if (res.instance !== undefined) span.instance = res.instance;
  if (endUs !== 0) span.durationUs = endUs - startUs;
  if (traceState !== undefined) span.traceState = traceState;
  if (res.resource !== undefined) span.resource = res.resource;
  if (scope !== undefined) span.scope = scope;
  if (wire.remote !== undefined) span.remote = wire.remote;
  if (wire.shared !== undefined) span.shared = wire.shared;
  if (wire.debug !== undefined) span.debug = wire.debug;
  if (wire.startUnknown === true) span.startUnknown = true;
  if (wire.durationUnknown === true && endUs === 0) span.durationUnknown = true;
  if (doubles.length > 0) span.doubleKeys = doubles;
  if (droppedCounts.attributes > 0 || droppedCounts.events > 0 || droppedCounts.links > 0) {
    const dropped: Span['dropped'] = {};
    if (droppedCounts.attributes > 0) dropped.attributes = droppedCounts.attributes;
    if (droppedCounts.events > 0) dropped.events = droppedCounts.events;
    if (droppedCounts.links > 0) dropped.links = droppedCounts.links;
    span.dropped = dropped;
  }
  return span;
}

function list(v: unknown, where: string): unknown[] {
  if (v == null) return [];
  if (!Array.isArray(v)) throw new CodecError(FORMAT, `${where} is not an array`);
  return v;
}

function label(i: number, j: number, k: number, s: unknown): string {
  const id = isObject(s) && typeof s.spanId === 'string' && s.spanId.length <= 64 ? ` (spanId ${s.spanId})` : '';
  return `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]${id}`;
}

/**
 * Parsed OTLP/HTTP JSON body -> model spans. Throws CodecError when the body is not an object or
 * its resourceSpans / scopeSpans / spans are not arrays of objects.
 */
export function decodeOtlpJson(body: unknown): DecodeResult {
  if (!isObject(body)) throw new CodecError(FORMAT, 'body is not a JSON object');
  const result = newDecodeResult();
  const resourceSpans = list(body.resourceSpans, 'resourceSpans');
  for (let i = 0; i < resourceSpans.length; i++) {
    const rs = resourceSpans[i];
    if (!isObject(rs)) throw new CodecError(FORMAT, `resourceSpans[${i}] is not an object`);
    let res: ResourceInfo | undefined;
    let resError: string | undefined;
    try {
      res = decodeResource(rs.resource);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      resError = e.message;
    }
    const scopeSpans = list(rs.scopeSpans, `resourceSpans[${i}].scopeSpans`);
    for (let j = 0; j < scopeSpans.length; j++) {
      const ss = scopeSpans[j];
      if (!isObject(ss)) throw new CodecError(FORMAT, `resourceSpans[${i}].scopeSpans[${j}] is not an object`);
      let scope: InstrumentationScope | undefined;
      let scopeError = resError;
      if (scopeError === undefined) {
        try {
          scope = decodeScope(ss.scope);
        } catch (e) {
          if (!(e instanceof FieldError)) throw e;
          scopeError = e.message;
        }
      }
      const spans = list(ss.spans, `resourceSpans[${i}].scopeSpans[${j}].spans`);
      for (let k = 0; k < spans.length; k++) {
        const s = spans[k];
        if (scopeError !== undefined) {
          rejectSpan(result, `${label(i, j, k, s)}: ${scopeError}`);
        } else if (!isObject(s)) {
          rejectSpan(result, `${label(i, j, k, s)}: not an object`);
        } else {
          try {
            result.spans.push(decodeSpan(s, res as ResourceInfo, scope));
          } catch (e) {
            if (!(e instanceof FieldError)) throw e;
            rejectSpan(result, `${label(i, j, k, s)}: ${e.message}`, e.reason);
          }
        }
      }
    }
  }
  return result;
}
