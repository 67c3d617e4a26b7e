/**
 * Zipkin v2 JSON <-> model. Zipkin has no resource, scope, links or typed attributes: those are
 * dropped on encode; tags are strings, and decoding keeps them strings.
 */
import { Buffer } from 'node:buffer';
import { ATTR, isStartRecord, type AttributeValue, type Endpoint, type Span, type SpanKind } from '../span.js';
import { parseInstance } from './instance-address.js';
import { UNKNOWN_SERVICE } from './validate.js';
import { WIRE_ATTR } from './wire-attributes.js';
import { OTEL_STATUS_TAG, ZIPKIN_ERROR_TAG as ERROR_TAG, type ZipkinEndpoint, type ZipkinKind, type ZipkinSpan } from './zipkin-types.js';

export { decodeZipkinJson } from './zipkin-json-decode.js';


const ZIPKIN_KIND: Readonly<Record<SpanKind, ZipkinKind | undefined>> = {
  internal: undefined,
  server: 'SERVER',
  client: 'CLIENT',
  producer: 'PRODUCER',
  consumer: 'CONSUMER',
};

/** Attribute value -> Zipkin tag string: arrays as JSON, bytes as base64. */
export function tagString(v: AttributeValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return JSON.stringify(v);
}

function remoteEndpoint(r: Endpoint): ZipkinEndpoint | undefined {
  const out: ZipkinEndpoint = {};
  if (r.service !== undefined) out.serviceName = r.service;
  if (r.ipv4 !== undefined) out.ipv4 = r.ipv4;
  if (r.ipv6 !== undefined) out.ipv6 = r.ipv6;
  if (r.port !== undefined) out.port = r.port;
  return out.serviceName === undefined && out.ipv4 === undefined && out.ipv6 === undefined && out.port === undefined
    ? undefined
    : out;
}

export function encodeZipkinSpan(span: Span): ZipkinSpan {
  const out: ZipkinSpan = { traceId: span.traceId, id: span.spanId };
  if (span.parentSpanId !== undefined) out.parentId = span.parentSpanId;
  const kind = ZIPKIN_KIND[span.kind];
  if (kind !== undefined) out.kind = kind;
  if (span.name !== '') out.name = span.name;
  // As Zipkin does, an unknown start is no timestamp and an unknown length no duration.
  if (span.startUnknown !== true) out.timestamp = Math.round(span.startUs);
  if (span.durationUs !== undefined) out.duration = Math.round(span.durationUs);

  const tags: Record<string, string> = {};
  let hasTags = false;
  const local: ZipkinEndpoint = {};
  if (span.service !== UNKNOWN_SERVICE) local.serviceName = span.service;
  if (span.instance !== undefined) {
    const addr = parseInstance(span.instance);
    if (addr === undefined) {
      tags[WIRE_ATTR.instance] = span.instance;
      hasTags = true;
    } else {
      if (addr.ipv4 !== undefined) local.ipv4 = addr.ipv4;
      if (addr.ipv6 !== undefined) local.ipv6 = addr.ipv6;
      if (addr.port !== undefined) local.port = addr.port;
    }
  }
  if (local.serviceName !== undefined || local.ipv4 !== undefined || local.ipv6 !== undefined || local.port !== undefined) {
    out.localEndpoint = local;
  }
  if (span.remote !== undefined) {
    const remote = remoteEndpoint(span.remote);
    if (remote !== undefined) out.remoteEndpoint = remote;
  }
  if (span.events.length > 0) {
    out.annotations = span.events.map((e) => ({ timestamp: Math.round(e.timeUs), value: e.name }));
  }

  const isError = span.status.code === 'error';
  const attrs = span.attributes;
  for (const key in attrs) {
    if (isError && key === ERROR_TAG) continue;
    if (span.rpcid !== undefined && key === WIRE_ATTR.rpcid) continue;
    if (key === ATTR.startRecord) continue;
    tags[key] = tagString(attrs[key]);
    hasTags = true;
  }
  if (span.rpcid !== undefined) {
    tags[WIRE_ATTR.rpcid] = span.rpcid;
    hasTags = true;
  }
  if (isStartRecord(span)) {
    tags[ATTR.startRecord] = 'true';
    hasTags = true;
  }
  if (isError) {
    tags[ERROR_TAG] = span.status.message ?? '';
    hasTags = true;
  } else if (span.status.code === 'ok') {
    tags[OTEL_STATUS_TAG] = 'OK';
    hasTags = true;
  }
  if (hasTags) out.tags = tags;
  if (span.debug === true) out.debug = true;
  if (span.shared === true) out.shared = true;
  return out;
}

/**
 * Model spans -> Zipkin v2 span array (ready for JSON.stringify). Start records have no `duration`
 * and the tag `linktrace.start_record` = `true`; a span of unknown start or length has no
 * `timestamp` / `duration`;
 * resource, scope, links, traceState and event attributes have no Zipkin form and are left out.
 */
export function encodeZipkinJson(spans: readonly Span[]): ZipkinSpan[] {
  const out = new Array<ZipkinSpan>(spans.length);
  for (let i = 0; i < spans.length; i++) out[i] = encodeZipkinSpan(spans[i]);
  return out;
}
