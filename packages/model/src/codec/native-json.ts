/**
 * Native JSON (`linktrace/1`) <-> model. The format is the model itself, so encoding mostly reuses
 * the span's own objects (attribute maps with only JSON-safe values are passed through, not copied);
 * service, instance and resource shared by the whole batch are written once in `resource`.
 */
import { Buffer } from 'node:buffer';
import type { AttributeScalar, Attributes, Span, SpanEvent, SpanLink } from '../span.js';
import {
  NATIVE_FORMAT,
  type NativeAttributeValue,
  type NativeAttributes,
  type NativeDouble,
  type NativeJsonBatch,
  type NativeJsonEvent,
  type NativeJsonLink,
  type NativeJsonResource,
  type NativeJsonSpan,
} from './native-json-types.js';

export { decodeNativeJson } from './native-json-decode.js';

function nativeDouble(n: number): NativeDouble {
  return { double: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' };
}

function isJsonSafe(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'object') {
    if (!Array.isArray(v)) return false;
    for (const item of v as unknown[]) if (typeof item === 'number' && !Number.isFinite(item)) return false;
  }
  return true;
}

function convertValue(v: Attributes[string]): NativeAttributeValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v : nativeDouble(v);
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (typeof v === 'object') {
    return v.map((item: AttributeScalar) => (typeof item === 'number' && !Number.isFinite(item) ? nativeDouble(item) : item));
  }
  return v;
}

/** The attributes as written: the same object when every value is JSON-safe, else a converted copy. */
export function nativeAttributes(attrs: Attributes): NativeAttributes {
  for (const key in attrs) {
    if (!isJsonSafe(attrs[key])) {
      const out: NativeAttributes = {};
      for (const k in attrs) out[k] = convertValue(attrs[k]);
      return out;
    }
  }
  return attrs as NativeAttributes;
}

function hasKeys(attrs: Attributes | undefined): attrs is Attributes {
  if (attrs === undefined) return false;
  for (const _ in attrs) return true;
  return false;
}

function encodeEvent(e: SpanEvent): NativeJsonEvent {
  return hasKeys(e.attributes)
    ? { timeUs: e.timeUs, name: e.name, attributes: nativeAttributes(e.attributes) }
    : { timeUs: e.timeUs, name: e.name };
}

function encodeLink(l: SpanLink): NativeJsonLink {
  const out: NativeJsonLink = { traceId: l.traceId, spanId: l.spanId };
  if (l.traceState !== undefined) out.traceState = l.traceState;
  if (hasKeys(l.attributes)) out.attributes = nativeAttributes(l.attributes);
  return out;
}

function encodeSpan(span: Span, hoisted: Hoisted, extra: Attributes | undefined): NativeJsonSpan {
  const out: NativeJsonSpan = {
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    kind: span.kind,
    startUs: span.startUs,
  };
  if (span.parentSpanId !== undefined) out.parentSpanId = span.parentSpanId;
  if (span.rpcid !== undefined) out.rpcid = span.rpcid;
  if (!hoisted.service) out.service = span.service;
  if (!hoisted.instance && span.instance !== undefined) out.instance = span.instance;
  if (span.durationUs !== undefined) out.durationUs = span.durationUs;
  if (span.status.code !== 'unset' || span.status.message !== undefined) out.status = span.status;
  if (hasKeys(span.attributes)) out.attributes = nativeAttributes(span.attributes);
  if (span.events.length > 0) out.events = span.events.map(encodeEvent);
  if (span.links.length > 0) out.links = span.links.map(encodeLink);
  if (span.traceState !== undefined) out.traceState = span.traceState;
  if (!hoisted.resource) {
    const resource = extra === undefined ? span.resource : { ...span.resource, ...extra };
    if (hasKeys(resource)) out.resource = nativeAttributes(resource);
  }
  if (span.scope !== undefined) {
    const s = span.scope;
    out.scope = { name: s.name };
    if (s.version !== undefined) out.scope.version = s.version;
    if (hasKeys(s.attributes)) out.scope.attributes = nativeAttributes(s.attributes);
  }
  if (span.remote !== undefined) out.remote = span.remote;
  if (span.shared !== undefined) out.shared = span.shared;
  if (span.debug !== undefined) out.debug = span.debug;
  if (span.startUnknown !== undefined) out.startUnknown = span.startUnknown;
  if (span.durationUnknown !== undefined) out.durationUnknown = span.durationUnknown;
  if (span.doubleKeys !== undefined && span.doubleKeys.length > 0) out.doubleKeys = span.doubleKeys;
  if (span.dropped !== undefined) out.dropped = span.dropped;
  return out;
}

interface Hoisted {
  service: boolean;
  instance: boolean;
  resource: boolean;
}

/**
 * Model spans -> native batch (ready for JSON.stringify). `extraResource` is merged into every span's
 * resource (it wins on a key clash), as for the OTLP encoders. The returned object may share
 * attribute maps with the input spans: serialise it before changing them.
 */
export function encodeNativeJson(spans: readonly Span[], extraResource?: Attributes): NativeJsonBatch {
  const hoisted: Hoisted = { service: spans.length > 0, instance: spans.length > 0, resource: spans.length > 0 };
  const first = spans[0];
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i];
    if (s.service !== first.service) hoisted.service = false;
    if (s.instance !== first.instance) hoisted.instance = false;
    if (s.resource !== first.resource) hoisted.resource = false;
  }
  const extra = hasKeys(extraResource) ? extraResource : undefined;
  const batch: NativeJsonBatch = { format: NATIVE_FORMAT, spans: [] };
  const resource: NativeJsonResource = {};
  if (hoisted.service) resource.service = first.service;
  if (hoisted.instance && first.instance !== undefined) resource.instance = first.instance;
  if (hoisted.resource) {
    const attrs = extra === undefined ? first.resource : { ...first.resource, ...extra };
    if (hasKeys(attrs)) resource.attributes = nativeAttributes(attrs);
  }
  if (resource.service !== undefined || resource.instance !== undefined || resource.attributes !== undefined) {
    batch.resource = resource;
  }
  const out = new Array<NativeJsonSpan>(spans.length);
  for (let i = 0; i < spans.length; i++) out[i] = encodeSpan(spans[i], hoisted, extra);
  batch.spans = out;
  return batch;
}
