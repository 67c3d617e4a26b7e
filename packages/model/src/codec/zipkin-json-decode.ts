/**
 * Zipkin v2 JSON -> model. Ids are normalised as Zipkin itself does (lowercase, left-padded with
 * zeros to 16 or 32 digits); tags stay strings; the `error` tag becomes an error status.
 */
import { ATTR, type AttributeValue, type Attributes, type Endpoint, type Span, type SpanEvent, type SpanKind, type SpanStatus } from '../span.js';
import { CodecError } from './codec-error.js';
import { setOwn } from './set-own.js';
import { newDecodeResult, rejectSpan, type DecodeResult } from './decode-result.js';
import { FieldError, fail } from './field-error.js';
import { normalizeHexId } from './hex.js';
import { formatInstance } from './instance-address.js';
import { LIMITS, UNKNOWN_SERVICE, isPort, isRpcid, isValidMicros } from './validate.js';
import { WIRE_ATTR } from './wire-attributes.js';
import { OTEL_STATUS_TAG, ZIPKIN_ERROR_TAG as ERROR_TAG } from './zipkin-types.js';

const FORMAT = 'zipkin-json';
const ZEROS = '00000000000000000000000000000000';

const KIND_FROM_ZIPKIN: Readonly<Record<string, SpanKind>> = {
  CLIENT: 'client',
  SERVER: 'server',
  PRODUCER: 'producer',
  CONSUMER: 'consumer',
};

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 1-`max` hex digits -> lowercase, zero-padded to 16 (or 32 when longer than 16); undefined if bad. */
function zipkinId(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) return undefined;
  const width = v.length <= 16 ? 16 : 32;
  return normalizeHexId(v.length === width ? v : ZEROS.slice(0, width - v.length) + v, width);
}

function optionalString(v: unknown, field: string, max: number): string | undefined {
  if (v == null) return undefined;
  if (typeof v !== 'string') return fail(field, 'not a string');
  if (v.length > max) return fail(field, 'too long');
  return v;
}

function endpoint(v: unknown, field: string): Endpoint | undefined {
  if (v == null) return undefined;
  if (!isObject(v)) return fail(field, 'not an object');
  const out: Endpoint = {};
  const service = optionalString(v.serviceName, `${field}.serviceName`, LIMITS.maxKeyLength);
  if (service !== undefined && service !== '') out.service = service;
  const ipv4 = optionalString(v.ipv4, `${field}.ipv4`, 64);
  if (ipv4 !== undefined && ipv4 !== '') out.ipv4 = ipv4;
  const ipv6 = optionalString(v.ipv6, `${field}.ipv6`, 64);
  if (ipv6 !== undefined && ipv6 !== '') out.ipv6 = ipv6;
  if (v.port != null) {
    if (!isPort(v.port)) return fail(`${field}.port`, 'not an integer in 0..65535');
    if (v.port !== 0) out.port = v.port;
  }
  return out;
}

function annotations(v: unknown): SpanEvent[] {
  if (v == null) return [];
  if (!Array.isArray(v)) return fail('annotations', 'not an array');
  if (v.length > LIMITS.maxEvents) return fail('annotations', 'too many');
  const out = new Array<SpanEvent>(v.length);
  for (let i = 0; i < v.length; i++) {
    const a: unknown = v[i];
    if (!isObject(a)) return fail(`annotations[${i}]`, 'not an object');
    if (!isValidMicros(a.timestamp)) return fail(`annotations[${i}].timestamp`, 'not a non-negative number of µs');
    const value = optionalString(a.value, `annotations[${i}].value`, LIMITS.maxStringLength);
    if (value === undefined) return fail(`annotations[${i}].value`, 'missing');
    out[i] = { timeUs: a.timestamp, name: value };
  }
  return out;
}

function decodeSpan(s: Obj): Span {
  const traceId = zipkinId(s.traceId, 32);
  if (traceId === undefined) return fail('traceId', 'not 1-32 hex digits, or all zero');
  const spanId = zipkinId(s.id, 16);
  if (spanId === undefined) return fail('id', 'not 1-16 hex digits, or all zero');
  let parentSpanId: string | undefined;
  if (s.parentId != null && s.parentId !== '' && !/^0+$/.test(String(s.parentId))) {
    parentSpanId = zipkinId(s.parentId, 16);
    if (parentSpanId === undefined) return fail('parentId', 'not 1-16 hex digits');
  }
  let kind: SpanKind = 'internal';
  if (s.kind != null) {
    const k = typeof s.kind === 'string' ? KIND_FROM_ZIPKIN[s.kind.toUpperCase()] : undefined;
    if (k === undefined) return fail('kind', 'not CLIENT, SERVER, PRODUCER or CONSUMER');
    kind = k;
  }
  const name = optionalString(s.name, 'name', LIMITS.maxStringLength) ?? '';
  // Only traceId and id are required in Zipkin v2; 0 is its "absent" timestamp. A span without one
  // is late data of a span or the untimed half of a shared span: reads merge it with its partner.
  const startUnknown = s.timestamp == null || s.timestamp === 0;
  if (!startUnknown && !isValidMicros(s.timestamp)) return fail('timestamp', 'not a positive number of µs');
  const startUs = startUnknown ? 0 : (s.timestamp as number);
  let durationUs: number | undefined;
  if (s.duration != null) {
    if (!isValidMicros(s.duration)) return fail('duration', 'not a non-negative number of µs');
    durationUs = s.duration;
  }
  let startRecord = false;
  const local = endpoint(s.localEndpoint, 'localEndpoint');
  const remote = endpoint(s.remoteEndpoint, 'remoteEndpoint');
  const events = annotations(s.annotations);

  const attributes: Attributes = {};
  let status: SpanStatus = { code: 'unset' };
  let rpcid: string | undefined;
  let instance = local === undefined ? undefined : formatInstance(local.ipv4, local.ipv6, local.port);
  let okTag = false;
  if (s.tags != null) {
    if (!isObject(s.tags)) return fail('tags', 'not an object');
    let n = 0;
    for (const key in s.tags) {
      if (++n > LIMITS.maxAttributes) return fail('tags', `more than ${LIMITS.maxAttributes}`, 'too_many_attributes');
      if (key.length > LIMITS.maxKeyLength) return fail('tags', 'key too long', 'attribute_too_large');
      const raw = s.tags[key];
      // Zipkin tags are strings; numbers and booleans from lax clients are kept as their text.
      const value = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
      if (value === undefined) return fail(`tags.${key}`, 'not a string');
      if (value.length > LIMITS.maxStringLength) return fail(`tags.${key}`, 'too long', 'attribute_too_large');
      if (key === ERROR_TAG) status = value === '' ? { code: 'error' } : { code: 'error', message: value };
      else if (key === OTEL_STATUS_TAG && value === 'OK') okTag = true;
      else if (key === WIRE_ATTR.rpcid && isRpcid(value)) rpcid = value;
      else if (key === WIRE_ATTR.instance) instance = value;
      else if (key === ATTR.startRecord) startRecord = value === 'true';
      else setOwn<AttributeValue>(attributes, key, value);
    }
  }
  if (okTag) {
    if (status.code === 'error') attributes[OTEL_STATUS_TAG] = 'OK';
    else status = { code: 'ok' };
  }

  const span: Span = {
    traceId,
    spanId,
    service: local?.service ?? UNKNOWN_SERVICE,
    name,
    kind,
    startUs,
    status,
    attributes,
    events,
    links: [],
  };
  if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
  if (rpcid !== undefined) span.rpcid = rpcid;
  if (instance !== undefined) span.instance = instance;
  if (durationUs !== undefined) span.durationUs = durationUs;
  // Zipkin has no open spans: without a duration the span is finished, of unknown length, unless
  // it is one of our own start records (DESIGN §3), which carry the start-record tag.
  else if (!startRecord) span.durationUnknown = true;
  if (startUnknown) span.startUnknown = true;
  if (remote !== undefined && (remote.service !== undefined || remote.ipv4 !== undefined || remote.ipv6 !== undefined || remote.port !== undefined)) {
    span.remote = remote;
  }
  if (s.shared === true) span.shared = true;
  if (s.debug === true) span.debug = true;
  return span;
}

/**
 * Parsed Zipkin v2 body (an array of spans; a single span object is accepted too) -> model spans.
 * Throws CodecError for any other shape.
 */
export function decodeZipkinJson(body: unknown): DecodeResult {
  const list = Array.isArray(body) ? (body as unknown[]) : isObject(body) ? [body] : undefined;
  if (list === undefined) throw new CodecError(FORMAT, 'body is not a JSON array of spans');
  const result = newDecodeResult();
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    const label = isObject(s) && typeof s.id === 'string' && s.id.length <= 64 ? `span ${i} (id ${s.id})` : `span ${i}`;
    if (!isObject(s)) {
      rejectSpan(result, `${label}: not an object`);
      continue;
    }
    try {
      result.spans.push(decodeSpan(s));
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      rejectSpan(result, `${label}: ${e.message}`, e.reason);
    }
  }
  return result;
}
