import type { Span } from '@linktrace/model';
import type { Resource } from '../types.js';
import { flatAttributes, type FlatValue } from './flat-attributes.js';

/**
 * One span as written by the JSON-lines file exporter. Every field is always present and always of
 * the type shown (null when the span has no value), so a log shipper or Elasticsearch mapping can rely
 * on it. Documented in docs/sdk.md (Exporting spans).
 */
export interface JsonLineRecord {
  /** Start time, ISO 8601 with millisecond precision (for Kibana's time picker). */
  '@timestamp': string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  rpcid: string | null;
  service: string;
  instance: string | null;
  name: string;
  kind: string;
  /** Microseconds since the Unix epoch. */
  startUs: number;
  /** Microseconds; null on a start record. */
  durationUs: number | null;
  startRecord: boolean;
  status: string;
  statusMessage: string | null;
  attributes: Record<string, FlatValue>;
  events: { timeUs: number; name: string; attributes: Record<string, FlatValue> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, FlatValue> }[];
  /** The span's resource attributes, then the exporting process's (incl. linktrace.sdk.dropped_spans). */
  resource: Record<string, FlatValue>;
  scope: string | null;
  scopeVersion: string | null;
  remoteService: string | null;
  remoteAddress: string | null;
  remotePort: number | null;
}

export function jsonLineRecord(span: Span, processResource: Record<string, FlatValue>): JsonLineRecord {
  const remote = span.remote;
  const resource = span.resource === undefined ? processResource : { ...flatAttributes(span.resource), ...processResource };
  return {
    '@timestamp': new Date(Math.floor(span.startUs / 1000)).toISOString(),
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? null,
    rpcid: span.rpcid ?? null,
    service: span.service,
    instance: span.instance ?? null,
    name: span.name,
    kind: span.kind,
    startUs: span.startUs,
    durationUs: span.durationUs ?? null,
    startRecord: span.durationUs === undefined,
    status: span.status.code,
    statusMessage: span.status.message ?? null,
    attributes: flatAttributes(span.attributes),
    events: span.events.map((e) => ({ timeUs: e.timeUs, name: e.name, attributes: flatAttributes(e.attributes) })),
    links: span.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: flatAttributes(l.attributes) })),
    resource,
    scope: span.scope?.name ?? null,
    scopeVersion: span.scope?.version ?? null,
    remoteService: remote?.service ?? null,
    remoteAddress: remote?.ipv4 ?? remote?.ipv6 ?? null,
    remotePort: remote?.port ?? null,
  };
}

/**
 * The process resource attributes as flat values, computed once per batch. Its service and instance
 * are not repeated: each record carries its own span's `service` and `instance`.
 */
export function flatResource(resource: Resource): Record<string, FlatValue> {
  return flatAttributes(resource.attributes);
}
