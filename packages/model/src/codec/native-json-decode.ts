/**
 * Native JSON (`linktrace/1`) -> model. The batch's `resource` supplies defaults (a span's own
 * service, instance and resource attributes win); every span then goes through validateSpan.
 */
import { Buffer } from 'node:buffer';
import type { AttributeScalar, AttributeValue, Attributes, Span, SpanEvent, SpanLink, StatusCode } from '../span.js';
import { CodecError } from './codec-error.js';
import { newDecodeResult, rejectSpan, type DecodeResult } from './decode-result.js';
import { FieldError, fail } from './field-error.js';
import { NATIVE_FORMAT } from './native-json-types.js';
import { LIMITS, UNKNOWN_SERVICE, normalizeSpanId, normalizeTraceId, validateSpan } from './validate.js';

const FORMAT = 'native-json';
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function taggedNumber(v: Obj, field: string): number | undefined {
  if (v.double === 'NaN') return NaN;
  if (v.double === 'Infinity') return Infinity;
  if (v.double === '-Infinity') return -Infinity;
  return v.double === undefined ? undefined : fail(field, 'double is not NaN, Infinity or -Infinity');
}

function value(v: unknown, field: string): AttributeValue {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    if (v.length > LIMITS.maxArrayLength) return fail(field, 'array too long');
    const out = new Array<AttributeScalar>(v.length);
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      if (isObject(item)) {
        const n = taggedNumber(item, field);
        if (n === undefined) return fail(field, 'array item is not a scalar');
        out[i] = n;
      } else out[i] = item as AttributeScalar; // checked by validateSpan
    }
    return out;
  }
  if (isObject(v)) {
    if (typeof v.bytes === 'string') {
      if (!BASE64_RE.test(v.bytes) || v.bytes.length > (LIMITS.maxBytesLength * 4) / 3 + 4) return fail(field, 'bytes is not bounded base64');
      const buf = Buffer.from(v.bytes, 'base64');
      const out = new Uint8Array(buf.length);
      out.set(buf);
      return out;
    }
    const n = taggedNumber(v, field);
    if (n !== undefined) return n;
  }
  return fail(field, 'not a string, number, boolean, array, {bytes} or {double}');
}

/** Native attributes -> model attributes (tagged values converted; shapes checked by validateSpan). */
function attributes(v: unknown, field: string): Attributes | undefined {
  if (v == null) return undefined;
  if (!isObject(v)) return fail(field, 'not an object');
  let converted: Attributes | undefined;
  let n = 0;
  for (const key in v) {
    if (++n > LIMITS.maxAttributes) return fail(field, `more than ${LIMITS.maxAttributes} attributes`, 'too_many_attributes');
    const raw = v[key];
    if (typeof raw === 'object' && raw !== null) {
      converted ??= { ...(v as Attributes) };
      converted[key] = value(raw, `${field}.${key}`);
    } else if (raw === null || raw === undefined) {
      return fail(`${field}.${key}`, 'null value');
    }
  }
  if (n === 0) return undefined;
  return converted ?? (v as Attributes);
}

function events(v: unknown): SpanEvent[] {
  if (v == null) return [];
  if (!Array.isArray(v)) return fail('events', 'not an array');
  if (v.length > LIMITS.maxEvents) return fail('events', 'too many');
  return v.map((e: unknown, i): SpanEvent => {
    if (!isObject(e)) return fail(`events[${i}]`, 'not an object');
    const event = { timeUs: e.timeUs, name: e.name } as SpanEvent;
    const attrs = attributes(e.attributes, `events[${i}].attributes`);
    if (attrs !== undefined) event.attributes = attrs;
    return event;
  });
}

function links(v: unknown): SpanLink[] {
  if (v == null) return [];
  if (!Array.isArray(v)) return fail('links', 'not an array');
  if (v.length > LIMITS.maxLinks) return fail('links', 'too many');
  return v.map((l: unknown, i): SpanLink => {
    if (!isObject(l)) return fail(`links[${i}]`, 'not an object');
    const link = { traceId: normalizeTraceId(l.traceId) ?? l.traceId, spanId: normalizeSpanId(l.spanId) ?? l.spanId } as SpanLink;
    if (l.traceState != null) link.traceState = l.traceState as string;
    const attrs = attributes(l.attributes, `links[${i}].attributes`);
    if (attrs !== undefined) link.attributes = attrs;
    return link;
  });
}

interface Defaults {
  service: string | undefined;
  instance: string | undefined;
  resource: Attributes | undefined;
}

function decodeSpan(s: Obj, d: Defaults): Span {
  const st = s.status;
  if (st != null && !isObject(st)) fail('status', 'not an object');
  const span = {
    traceId: normalizeTraceId(s.traceId) ?? s.traceId,
    spanId: normalizeSpanId(s.spanId) ?? s.spanId,
    service: s.service ?? d.service ?? UNKNOWN_SERVICE,
    name: s.name,
    kind: s.kind,
    startUs: s.startUs,
    status: st == null ? { code: 'unset' as StatusCode } : st.message == null ? { code: st.code } : { code: st.code, message: st.message },
    attributes: attributes(s.attributes, 'attributes') ?? {},
    events: events(s.events),
    links: links(s.links),
  } as Span;
  if (s.parentSpanId != null) span.parentSpanId = (normalizeSpanId(s.parentSpanId) ?? s.parentSpanId) as string;
  if (s.rpcid != null) span.rpcid = s.rpcid as string;
  const instance = s.instance ?? d.instance;
  if (instance != null) span.instance = instance as string;
  if (s.durationUs != null) span.durationUs = s.durationUs as number;
  if (s.traceState != null) span.traceState = s.traceState as string;
  const own = attributes(s.resource, 'resource');
  const resource = d.resource === undefined ? own : own === undefined ? d.resource : { ...d.resource, ...own };
  if (resource !== undefined) span.resource = resource;
  if (s.scope != null) {
    if (!isObject(s.scope)) fail('scope', 'not an object');
    const scope = { name: s.scope.name } as NonNullable<Span['scope']>;
    if (s.scope.version != null) scope.version = s.scope.version as string;
    const attrs = attributes(s.scope.attributes, 'scope.attributes');
    if (attrs !== undefined) scope.attributes = attrs;
    span.scope = scope;
  }
  if (s.remote != null) span.remote = s.remote as Span['remote'];
  if (s.shared != null) span.shared = s.shared as boolean;
  if (s.debug != null) span.debug = s.debug as boolean;
  if (s.startUnknown != null) span.startUnknown = s.startUnknown as boolean;
  if (s.durationUnknown != null) span.durationUnknown = s.durationUnknown as boolean;
  if (s.doubleKeys != null) span.doubleKeys = s.doubleKeys as string[];
  if (s.dropped != null) span.dropped = s.dropped as Span['dropped'];
  const problem = validateSpan(span);
  if (problem !== undefined) throw new FieldError(problem);
  return span;
}

function decodeDefaults(r: unknown): Defaults {
  if (r == null) return { service: undefined, instance: undefined, resource: undefined };
  if (!isObject(r)) return fail('resource', 'not an object');
  if (r.service != null && (typeof r.service !== 'string' || r.service === '')) fail('resource.service', 'not a non-empty string');
  if (r.instance != null && typeof r.instance !== 'string') fail('resource.instance', 'not a string');
  return {
    service: r.service as string | undefined,
    instance: r.instance as string | undefined,
    resource: attributes(r.attributes, 'resource.attributes'),
  };
}

/**
 * Parsed native body -> model spans. Throws CodecError unless the body is an object with
 * `format: "linktrace/1"` and a `spans` array.
 */
export function decodeNativeJson(body: unknown): DecodeResult {
  if (!isObject(body)) throw new CodecError(FORMAT, 'body is not a JSON object');
  if (body.format !== NATIVE_FORMAT) throw new CodecError(FORMAT, `format is not "${NATIVE_FORMAT}"`);
  if (!Array.isArray(body.spans)) throw new CodecError(FORMAT, 'spans is not an array');
  const spans = body.spans as unknown[];
  const result = newDecodeResult();
  let defaults: Defaults | undefined;
  let batchError: string | undefined;
  try {
    defaults = decodeDefaults(body.resource);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    batchError = e.message;
  }
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    const label = isObject(s) && typeof s.spanId === 'string' && s.spanId.length <= 64 ? `spans[${i}] (spanId ${s.spanId})` : `spans[${i}]`;
    if (batchError !== undefined) rejectSpan(result, `${label}: ${batchError}`);
    else if (!isObject(s)) rejectSpan(result, `${label}: not an object`);
    else {
      try {
        result.spans.push(decodeSpan(s, defaults as Defaults));
      } catch (e) {
        if (!(e instanceof FieldError)) throw e;
        rejectSpan(result, `${label}: ${e.message}`, e.reason);
      }
    }
  }
  return result;
}
