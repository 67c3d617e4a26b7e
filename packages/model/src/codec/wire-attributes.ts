/**
 * Model fields that OTLP has no slot for travel as `linktrace.*` span attributes, so that
 * model -> OTLP -> model is exact. They live in our own namespace so that attributes set by other
 * tracers (`peer.service`, …) are never moved or renamed.
 */
import { ATTR, type Endpoint, type Span } from '../span.js';
import { isPort, isRpcid } from './validate.js';

export const WIRE_ATTR = {
  rpcid: ATTR.rpcid,
  remoteService: 'linktrace.remote.service',
  remoteIpv4: 'linktrace.remote.ipv4',
  remoteIpv6: 'linktrace.remote.ipv6',
  remotePort: 'linktrace.remote.port',
  shared: 'linktrace.shared',
  debug: 'linktrace.debug',
  /** `startUnknown` (only `true` is written; the start time on the wire is then 0). */
  startUnknown: 'linktrace.start_unknown',
  /** `durationUnknown` (only `true` is written; the span has no end time on the wire). */
  durationUnknown: 'linktrace.duration_unknown',
  /** Zipkin only: an instance whose host is not an IP address (Zipkin endpoints hold IPs only). */
  instance: 'linktrace.instance',
} as const;

/** OpenTelemetry resource attributes that map to model fields. */
export const RESOURCE_ATTR = {
  serviceName: 'service.name',
  instanceId: 'service.instance.id',
} as const;

/** Receives the wire attributes of one span; implemented by each encoder. */
export interface WireAttributeSink {
  attr(key: string, value: string | number | boolean): void;
}

/** Emits the model fields that ride as attributes (rpcid, remote endpoint, shared, debug). */
export function emitWireAttributes(span: Span, sink: WireAttributeSink): void {
  if (span.rpcid !== undefined) sink.attr(WIRE_ATTR.rpcid, span.rpcid);
  const remote = span.remote;
  if (remote !== undefined) {
    if (remote.service !== undefined) sink.attr(WIRE_ATTR.remoteService, remote.service);
    if (remote.ipv4 !== undefined) sink.attr(WIRE_ATTR.remoteIpv4, remote.ipv4);
    if (remote.ipv6 !== undefined) sink.attr(WIRE_ATTR.remoteIpv6, remote.ipv6);
    if (remote.port !== undefined) sink.attr(WIRE_ATTR.remotePort, remote.port);
  }
  if (span.shared !== undefined) sink.attr(WIRE_ATTR.shared, span.shared);
  if (span.debug !== undefined) sink.attr(WIRE_ATTR.debug, span.debug);
  if (span.startUnknown === true) sink.attr(WIRE_ATTR.startUnknown, true);
  if (span.durationUnknown === true) sink.attr(WIRE_ATTR.durationUnknown, true);
}

/** True when `key` of span.attributes would duplicate an attribute emitWireAttributes writes. */
export function isShadowed(span: Span, key: string): boolean {
  if (key.length < 15 || !key.startsWith('linktrace.')) return false;
  switch (key) {
    case WIRE_ATTR.rpcid:
      return span.rpcid !== undefined;
    case WIRE_ATTR.remoteService:
      return span.remote?.service !== undefined;
    case WIRE_ATTR.remoteIpv4:
      return span.remote?.ipv4 !== undefined;
    case WIRE_ATTR.remoteIpv6:
      return span.remote?.ipv6 !== undefined;
    case WIRE_ATTR.remotePort:
      return span.remote?.port !== undefined;
    case WIRE_ATTR.shared:
      return span.shared !== undefined;
    case WIRE_ATTR.debug:
      return span.debug !== undefined;
    case WIRE_ATTR.startUnknown:
      return span.startUnknown === true;
    case WIRE_ATTR.durationUnknown:
      return span.durationUnknown === true;
    default:
      return false;
  }
}

/** What a decoder collects from wire attributes before building the span. */
export interface WireFields {
  rpcid?: string;
  remote?: Endpoint;
  shared?: boolean;
  debug?: boolean;
  startUnknown?: boolean;
  durationUnknown?: boolean;
}

/**
 * If `key`/`value` is one of the wire attributes with a well-formed value, stores it in `fields`
 * and returns true (the attribute is consumed); otherwise returns false and the decoder keeps it
 * as a plain attribute (e.g. an rpcid of the wrong shape set by another tracer).
 */
export function takeWireAttribute(fields: WireFields, key: string, value: unknown): boolean {
  switch (key) {
    case WIRE_ATTR.rpcid:
      if (!isRpcid(value)) return false;
      fields.rpcid = value;
      return true;
    case WIRE_ATTR.remoteService:
    case WIRE_ATTR.remoteIpv4:
    case WIRE_ATTR.remoteIpv6:
      if (typeof value !== 'string') return false;
      fields.remote ??= {};
      if (key === WIRE_ATTR.remoteService) fields.remote.service = value;
      else if (key === WIRE_ATTR.remoteIpv4) fields.remote.ipv4 = value;
      else fields.remote.ipv6 = value;
      return true;
    case WIRE_ATTR.remotePort:
      if (!isPort(value)) return false;
      fields.remote ??= {};
      fields.remote.port = value;
      return true;
    case WIRE_ATTR.shared:
      if (typeof value !== 'boolean') return false;
      fields.shared = value;
      return true;
    case WIRE_ATTR.debug:
      if (typeof value !== 'boolean') return false;
      fields.debug = value;
      return true;
    case WIRE_ATTR.startUnknown:
    case WIRE_ATTR.durationUnknown:
      if (value !== true) return false;
      if (key === WIRE_ATTR.startUnknown) fields.startUnknown = true;
      else fields.durationUnknown = true;
      return true;
    default:
      return false;
  }
}
