/**
 * The one span model that flows between every Linktrace stage (DESIGN §1, §3).
 * Receivers convert wire formats into it at the edge; storage, analysis and query speak nothing else.
 *
 * Times are microseconds since the Unix epoch as plain numbers: exact to the µs up to year 2255,
 * cheap to compare, and Zipkin's native unit. OTLP nanoseconds are rounded down to the µs.
 */

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export const SPAN_KINDS: readonly SpanKind[] = ['internal', 'server', 'client', 'producer', 'consumer'];

export type StatusCode = 'unset' | 'ok' | 'error';

export type AttributeScalar = string | number | boolean;
/**
 * Attribute values: scalars, homogeneous arrays of scalars, or raw bytes (OTLP `bytesValue`).
 * OTLP distinguishes int from double; a number that is an integer is encoded as `intValue`,
 * unless its key is listed in the span's `doubleKeys` (kept so that round trips are exact).
 */
export type AttributeValue = AttributeScalar | readonly AttributeScalar[] | Uint8Array;
export type Attributes = Record<string, AttributeValue>;

export interface SpanStatus {
  code: StatusCode;
  message?: string;
}

export interface SpanEvent {
  /** µs since epoch */
  timeUs: number;
  name: string;
  attributes?: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes?: Attributes;
}

/** A network endpoint, as Zipkin's `remoteEndpoint` describes the peer of a call. */
export interface Endpoint {
  service?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface InstrumentationScope {
  name: string;
  version?: string;
  attributes?: Attributes;
}

/** Counts of what the producer of the span cut or dropped before sending it. */
export interface DroppedCounts {
  attributes?: number;
  events?: number;
  links?: number;
}

export interface Span {
  /** 32 lowercase hex (16 bytes); Zipkin 64-bit ids are kept as 16 lowercase hex. */
  traceId: string;
  /** 16 lowercase hex (8 bytes). */
  spanId: string;
  parentSpanId?: string;
  /** Position id, e.g. `0.1.2` (DESIGN §2). */
  rpcid?: string;
  /** Service name (OTLP `service.name`, Zipkin `localEndpoint.serviceName`). */
  service: string;
  /** `host:port` of the process that recorded the span. */
  instance?: string;
  name: string;
  kind: SpanKind;
  /**
   * µs since epoch. When `startUnknown` is set this is a stand-in: 0 as decoded and stored, and on
   * read a placement near the span's partner or parent (record-merge.ts); never a measurement.
   */
  startUs: number;
  /**
   * µs. Absent on a start record (the span began, its end has not been reported yet), and on a
   * finished span whose length was not reported (`durationUnknown`).
   */
  durationUs?: number;
  /**
   * The sender did not say when the span started: a Zipkin span without `timestamp` (late data of
   * a span, or the untimed half of a shared span). Reads merge it with its partner when there is one.
   */
  startUnknown?: boolean;
  /**
   * The span is finished but its length was not reported: a Zipkin span without `duration` (Zipkin
   * has no open spans). Not a start record: only our own start records mean "still running".
   */
  durationUnknown?: boolean;
  status: SpanStatus;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  /** W3C tracestate of the span's context. */
  traceState?: string;
  /** Resource attributes other than `service.name`. */
  resource?: Attributes;
  scope?: InstrumentationScope;
  /** The peer of a client/server/producer/consumer span. */
  remote?: Endpoint;
  /** Zipkin: this server span shares its id with the client span that called it. */
  shared?: boolean;
  /** Zipkin: debug flag (force sampled). */
  debug?: boolean;
  /** Attribute keys whose numeric value is a floating-point number on the wire even if integral. */
  doubleKeys?: string[];
  dropped?: DroppedCounts;
}

/**
 * A start record is a span whose end has not been reported yet (DESIGN §3, Dapper's two records): no
 * duration, and not a finished span of unknown length (`durationUnknown`).
 */
export function isStartRecord(span: Span): boolean {
  return span.durationUs === undefined && span.durationUnknown !== true;
}

/** The attribute names of DESIGN §3. */
export const ATTR = {
  rpcid: 'linktrace.rpcid',
  stage: 'linktrace.stage',
  entityType: 'linktrace.entity.type',
  entityKey: 'linktrace.entity.key',
  entityVersion: 'linktrace.entity.version',
  target: 'linktrace.target',
  skipReason: 'linktrace.skip.reason',
  /** On a consumer span: which delivery of the message it handles (1 = first), when the broker says. */
  deliveryCount: 'linktrace.delivery.count',
  /** On a consumer span: `true` when the broker delivered the message before (a lost ack, a requeue). */
  redelivered: 'linktrace.delivery.redelivered',
  /**
   * Zipkin tag `"true"` on a start record (DESIGN §3): a Zipkin span without `duration` is finished,
   * of unknown length, unless it carries this tag (our own exporters set it).
   */
  startRecord: 'linktrace.start_record',
  /** Resource attribute on every SDK export: spans this process dropped since it started (a cumulative counter). */
  droppedSpans: 'linktrace.sdk.dropped_spans',
} as const;

export type Stage = 'receive' | 'process' | 'write' | 'skip' | 'enqueue' | 'dequeue' | 'consume';
export const STAGES: readonly Stage[] = ['receive', 'process', 'write', 'skip', 'enqueue', 'dequeue', 'consume'];

/**
 * A plain-object copy of a span, field by field. Span objects may be class instances whose fields are
 * getters (the SDK's live spans), which object spread would not copy.
 */
export function copySpan(span: Span): Span {
  const copy: Span = {
    traceId: span.traceId,
    spanId: span.spanId,
    service: span.service,
    name: span.name,
    kind: span.kind,
    startUs: span.startUs,
    status: span.status,
    attributes: { ...span.attributes },
    events: [...span.events],
    links: [...span.links],
  };
  if (span.parentSpanId !== undefined) copy.parentSpanId = span.parentSpanId;
  if (span.rpcid !== undefined) copy.rpcid = span.rpcid;
  if (span.instance !== undefined) copy.instance = span.instance;
  if (span.durationUs !== undefined) copy.durationUs = span.durationUs;
  if (span.startUnknown !== undefined) copy.startUnknown = span.startUnknown;
  if (span.durationUnknown !== undefined) copy.durationUnknown = span.durationUnknown;
  if (span.traceState !== undefined) copy.traceState = span.traceState;
  if (span.resource !== undefined) copy.resource = span.resource;
  if (span.scope !== undefined) copy.scope = span.scope;
  if (span.remote !== undefined) copy.remote = span.remote;
  if (span.shared !== undefined) copy.shared = span.shared;
  if (span.debug !== undefined) copy.debug = span.debug;
  if (span.doubleKeys !== undefined) copy.doubleKeys = span.doubleKeys;
  if (span.dropped !== undefined) copy.dropped = { ...span.dropped };
  return copy;
}

/** The start record of a span (DESIGN §3): a copy without a duration. */
export function startRecordOf(span: Span): Span {
  const copy = copySpan(span);
  delete copy.durationUs;
  delete copy.durationUnknown;
  return copy;
}
