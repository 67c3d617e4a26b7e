/**
 * Model spans -> a Jaeger UI trace (`{traceID, spans, processes, warnings}`), following Jaeger's own
 * OTLP translation so that a trace reads the same whichever of the two served it:
 * resource attributes become the process's tags (processes shared by spans with the same service
 * and tags: `p1`, `p2`, … by first appearance), the scope becomes `otel.scope.name`/`version` tags,
 * the kind the `span.kind` tag, an error status `error=true` plus `otel.status_code` and
 * `otel.status_description`, the parent a CHILD_OF reference, links FOLLOWS_FROM references, events
 * logs whose first field is `event`. Linktrace fields with no Jaeger slot (rpcid, remote endpoint,
 * start record, unknown start or length) ride as `linktrace.*`/`peer.*` tags and span warnings.
 */
import { Buffer } from 'node:buffer';
import { ATTR, isStartRecord, RESOURCE_ATTR, WIRE_ATTR, type AttributeValue, type Attributes, type Span } from '@linktrace/model';
import type { JaegerLog, JaegerProcess, JaegerReference, JaegerSpan, JaegerTag, JaegerTrace } from './jaeger-types.js';

/** The tag names Jaeger's OTLP translation uses. */
export const JAEGER_TAG = {
  scopeName: 'otel.scope.name',
  scopeVersion: 'otel.scope.version',
  spanKind: 'span.kind',
  error: 'error',
  statusCode: 'otel.status_code',
  statusDescription: 'otel.status_description',
  traceState: 'w3c.tracestate',
  event: 'event',
  peerService: 'peer.service',
  peerIpv4: 'peer.ipv4',
  peerIpv6: 'peer.ipv6',
  peerPort: 'peer.port',
} as const;

/** Span tags this encoder makes from model fields (not from attributes): a search on them is checked on the encoded span. */
export const SYNTHETIC_SPAN_TAGS: ReadonlySet<string> = new Set([
  JAEGER_TAG.scopeName,
  JAEGER_TAG.scopeVersion,
  JAEGER_TAG.spanKind,
  JAEGER_TAG.error,
  JAEGER_TAG.statusCode,
  JAEGER_TAG.statusDescription,
  JAEGER_TAG.traceState,
  JAEGER_TAG.peerService,
  JAEGER_TAG.peerIpv4,
  JAEGER_TAG.peerIpv6,
  JAEGER_TAG.peerPort,
  ATTR.rpcid,
  ATTR.startRecord,
  RESOURCE_ATTR.instanceId,
]);

const WARN_START_RECORD = 'the span has not ended yet (a start record): its duration is 0 until its end is reported';
const WARN_START_UNKNOWN = 'the sender did not report when this span started: its start time is placed near its partner or parent';
const WARN_DURATION_UNKNOWN = 'the sender did not report how long this span took: its duration is 0';

/** One attribute as a Jaeger tag: integers int64 (unless sent as doubles), arrays as JSON text, bytes base64. */
export function jaegerTag(key: string, v: AttributeValue, isDouble = false): JaegerTag {
  if (typeof v === 'string') return { key, type: 'string', value: v };
  if (typeof v === 'boolean') return { key, type: 'bool', value: v };
  if (typeof v === 'number') {
    // JSON has no NaN or ±Infinity; Jaeger's Go encoder cannot write them either.
    if (!Number.isFinite(v)) return { key, type: 'string', value: String(v) };
    return { key, type: Number.isInteger(v) && !isDouble ? 'int64' : 'float64', value: v };
  }
  if (v instanceof Uint8Array) return { key, type: 'binary', value: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  return { key, type: 'string', value: JSON.stringify(v) };
}

function pushTags(out: JaegerTag[], attrs: Attributes | undefined, skip?: (key: string) => boolean, doubleKeys?: readonly string[]): void {
  if (attrs === undefined) return;
  for (const key in attrs) {
    if (skip?.(key) === true) continue;
    out.push(jaegerTag(key, attrs[key]!, doubleKeys?.includes(key) === true));
  }
}

function spanTags(span: Span): JaegerTag[] {
  const tags: JaegerTag[] = [];
  if (span.scope !== undefined) {
    if (span.scope.name !== '') tags.push({ key: JAEGER_TAG.scopeName, type: 'string', value: span.scope.name });
    if (span.scope.version !== undefined) tags.push({ key: JAEGER_TAG.scopeVersion, type: 'string', value: span.scope.version });
  }
  const isError = span.status.code === 'error';
  const attrs = span.attributes;
  pushTags(
    tags,
    attrs,
    (key) => (isError && key === JAEGER_TAG.error) || (span.rpcid !== undefined && key === WIRE_ATTR.rpcid) || key === ATTR.startRecord,
    span.doubleKeys,
  );
  if (span.rpcid !== undefined) tags.push({ key: WIRE_ATTR.rpcid, type: 'string', value: span.rpcid });
  const remote = span.remote;
  if (remote !== undefined) {
    if (remote.service !== undefined && attrs[JAEGER_TAG.peerService] === undefined) tags.push({ key: JAEGER_TAG.peerService, type: 'string', value: remote.service });
    if (remote.ipv4 !== undefined) tags.push({ key: JAEGER_TAG.peerIpv4, type: 'string', value: remote.ipv4 });
    if (remote.ipv6 !== undefined) tags.push({ key: JAEGER_TAG.peerIpv6, type: 'string', value: remote.ipv6 });
    if (remote.port !== undefined) tags.push({ key: JAEGER_TAG.peerPort, type: 'int64', value: remote.port });
  }
  tags.push({ key: JAEGER_TAG.spanKind, type: 'string', value: span.kind });
  if (isError) {
    tags.push({ key: JAEGER_TAG.statusCode, type: 'string', value: 'ERROR' });
    tags.push({ key: JAEGER_TAG.error, type: 'bool', value: true });
    if (span.status.message !== undefined && span.status.message !== '') {
      tags.push({ key: JAEGER_TAG.statusDescription, type: 'string', value: span.status.message });
    }
  } else if (span.status.code === 'ok') {
    tags.push({ key: JAEGER_TAG.statusCode, type: 'string', value: 'OK' });
  }
  if (span.traceState !== undefined && span.traceState !== '') tags.push({ key: JAEGER_TAG.traceState, type: 'string', value: span.traceState });
  if (isStartRecord(span)) tags.push({ key: ATTR.startRecord, type: 'bool', value: true });
  return tags;
}

function references(span: Span): JaegerReference[] {
  const refs: JaegerReference[] = [];
  if (span.parentSpanId !== undefined) refs.push({ refType: 'CHILD_OF', traceID: span.traceId, spanID: span.parentSpanId });
  for (const l of span.links) {
    // A link to the parent says nothing the CHILD_OF reference does not.
    if (l.traceId === span.traceId && l.spanId === span.parentSpanId) continue;
    refs.push({ refType: 'FOLLOWS_FROM', traceID: l.traceId, spanID: l.spanId });
  }
  return refs;
}

function logs(span: Span): JaegerLog[] {
  return span.events.map((e) => {
    const fields: JaegerTag[] = [{ key: JAEGER_TAG.event, type: 'string', value: e.name }];
    pushTags(fields, e.attributes);
    return { timestamp: Math.round(e.timeUs), fields };
  });
}

function warnings(span: Span): string[] | null {
  const out: string[] = [];
  if (isStartRecord(span)) out.push(WARN_START_RECORD);
  if (span.startUnknown === true) out.push(WARN_START_UNKNOWN);
  if (span.durationUnknown === true) out.push(WARN_DURATION_UNKNOWN);
  return out.length === 0 ? null : out;
}

function processOf(span: Span): JaegerProcess {
  const tags: JaegerTag[] = [];
  if (span.instance !== undefined) tags.push({ key: RESOURCE_ATTR.instanceId, type: 'string', value: span.instance });
  pushTags(tags, span.resource);
  return { serviceName: span.service, tags };
}

/** One trace's spans (as the store returns them) -> Jaeger's trace; `spans` must not be empty. */
export function encodeJaegerTrace(spans: readonly Span[]): JaegerTrace {
  const processes: Record<string, JaegerProcess> = {};
  const processIds = new Map<string, string>();
  const out: JaegerSpan[] = [];
  for (const span of spans) {
    const process = processOf(span);
    const key = `${process.serviceName}\u0000${JSON.stringify(process.tags)}`;
    let processID = processIds.get(key);
    if (processID === undefined) {
      processID = `p${processIds.size + 1}`;
      processIds.set(key, processID);
      processes[processID] = process;
    }
    out.push({
      traceID: span.traceId,
      spanID: span.spanId,
      operationName: span.name,
      references: references(span),
      startTime: Math.round(span.startUs),
      duration: Math.round(span.durationUs ?? 0),
      tags: spanTags(span),
      logs: logs(span),
      processID,
      warnings: warnings(span),
    });
  }
  return { traceID: spans[0]!.traceId, spans: out, processes, warnings: null };
}
