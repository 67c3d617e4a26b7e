/**
 * OTLP/HTTP JSON <-> model. The encoder builds a plain object ready for JSON.stringify; the decoder
 * takes the parsed body (unknown) and validates as it walks, rejecting single spans and keeping the
 * rest of the request.
 */
import type { AttributeValue, Attributes, Span, SpanEvent, SpanLink } from '../span.js';
import { groupSpans, resourceAttributes } from './otlp-grouping.js';
import { OTLP_KIND, OTLP_STATUS } from './otlp-enums.js';
import { microsToNanoString } from './nanos.js';
import { emitWireAttributes, isShadowed, type WireAttributeSink } from './wire-attributes.js';

export { decodeOtlpJson } from './otlp-json-decode.js';
import type {
  OtlpAnyValue,
  OtlpJsonEvent,
  OtlpJsonLink,
  OtlpJsonRequest,
  OtlpJsonScopeSpans,
  OtlpJsonSpan,
  OtlpKeyValue,
} from './otlp-json-types.js';


/** |n| below 2^63: an integral number that fits OTLP's int64 `intValue`. */
const INT64_LIMIT = 9223372036854775808;

function numberValue(n: number, asDouble: boolean): OtlpAnyValue {
  if (!asDouble && Number.isInteger(n) && n < INT64_LIMIT && n > -INT64_LIMIT) {
    // Above 2^53 String() gives the shortest text that reads back as the same double, not the exact integer.
    return { intValue: Number.isSafeInteger(n) ? String(n) : BigInt(n).toString() };
  }
  if (Number.isFinite(n)) return { doubleValue: n };
  return { doubleValue: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' };
}

function scalarValue(v: string | number | boolean, asDouble: boolean): OtlpAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return numberValue(v, asDouble);
  return { boolValue: v };
}

export function otlpAnyValue(v: AttributeValue, asDouble = false): OtlpAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return numberValue(v, asDouble);
  if (typeof v === 'boolean') return { boolValue: v };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  const values: OtlpAnyValue[] = new Array<OtlpAnyValue>(v.length);
  for (let i = 0; i < v.length; i++) values[i] = scalarValue(v[i], asDouble);
  return { arrayValue: { values } };
}

function keyValues(attrs: Attributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const key in attrs) out.push({ key, value: otlpAnyValue(attrs[key]) });
  return out;
}

/** Collects the span's attributes plus its wire attributes (rpcid, remote, …) as KeyValues. */
class SpanAttributeList implements WireAttributeSink {
  list: OtlpKeyValue[] = [];
  attr(key: string, value: string | number | boolean): void {
    this.list.push({ key, value: scalarValue(value, false) });
  }
}

function spanAttributes(span: Span): OtlpKeyValue[] {
  const sink = new SpanAttributeList();
  const out = sink.list;
  const doubles = span.doubleKeys;
  const attrs = span.attributes;
  for (const key in attrs) {
    if (isShadowed(span, key)) continue;
    out.push({ key, value: otlpAnyValue(attrs[key], doubles !== undefined && doubles.includes(key)) });
  }
  emitWireAttributes(span, sink);
  return out;
}

function encodeEvent(e: SpanEvent): OtlpJsonEvent {
  const out: OtlpJsonEvent = { timeUnixNano: microsToNanoString(e.timeUs), name: e.name };
  if (e.attributes !== undefined) out.attributes = keyValues(e.attributes);
  return out;
}

function encodeLink(l: SpanLink): OtlpJsonLink {
  const out: OtlpJsonLink = { traceId: l.traceId, spanId: l.spanId };
  if (l.traceState !== undefined) out.traceState = l.traceState;
  if (l.attributes !== undefined) out.attributes = keyValues(l.attributes);
  return out;
}

export function encodeOtlpJsonSpan(span: Span): OtlpJsonSpan {
  const out: OtlpJsonSpan = {
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    kind: OTLP_KIND[span.kind],
    startTimeUnixNano: microsToNanoString(span.startUs),
    attributes: spanAttributes(span),
    status: { code: OTLP_STATUS[span.status.code] },
  };
  if (span.parentSpanId !== undefined) out.parentSpanId = span.parentSpanId;
  if (span.traceState !== undefined) out.traceState = span.traceState;
  if (span.durationUs !== undefined) out.endTimeUnixNano = microsToNanoString(span.startUs + span.durationUs);
  if (span.status.message !== undefined) out.status.message = span.status.message;
  if (span.events.length > 0) out.events = span.events.map(encodeEvent);
  if (span.links.length > 0) out.links = span.links.map(encodeLink);
  const dropped = span.dropped;
  if (dropped !== undefined) {
    if (dropped.attributes) out.droppedAttributesCount = dropped.attributes;
    if (dropped.events) out.droppedEventsCount = dropped.events;
    if (dropped.links) out.droppedLinksCount = dropped.links;
  }
  return out;
}

/**
 * Model spans -> OTLP/HTTP JSON request object. Spans are grouped by service + instance + resource,
 * then by scope; `extraResource` is merged into every resource (it wins on a key clash).
 * Ids are written as they are in the model (lowercase hex; a 16-hex Zipkin trace id stays 16 hex).
 */
export function encodeOtlpJson(spans: readonly Span[], extraResource?: Attributes): OtlpJsonRequest {
  const resourceSpans = groupSpans(spans).map((group) => {
    const scopeSpans = group.scopes.map((sg): OtlpJsonScopeSpans => {
      const out: OtlpJsonScopeSpans = { spans: sg.spans.map(encodeOtlpJsonSpan) };
      const scope = sg.scope;
      if (scope !== undefined) {
        out.scope = { name: scope.name };
        if (scope.version !== undefined) out.scope.version = scope.version;
        if (scope.attributes !== undefined) out.scope.attributes = keyValues(scope.attributes);
      }
      return out;
    });
    return { resource: { attributes: keyValues(resourceAttributes(group, extraResource)) }, scopeSpans };
  });
  return { resourceSpans };
}
