/**
 * The OTLP/HTTP JSON request shape (ExportTraceServiceRequest under the proto3 JSON mapping with
 * OTLP's deviations: hex ids, integer enums, 64-bit integers as decimal strings).
 */

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  /** int64 as a decimal string (numbers are accepted on input). */
  intValue?: string | number;
  /** A number, or "NaN" / "Infinity" / "-Infinity". */
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  /** base64 */
  bytesValue?: string;
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpJsonEvent {
  timeUnixNano: string;
  name: string;
  attributes?: OtlpKeyValue[];
}

export interface OtlpJsonLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes?: OtlpKeyValue[];
}

export interface OtlpJsonStatus {
  code?: number;
  message?: string;
}

export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  /** Absent on a start record. */
  endTimeUnixNano?: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount?: number;
  events?: OtlpJsonEvent[];
  droppedEventsCount?: number;
  links?: OtlpJsonLink[];
  droppedLinksCount?: number;
  status: OtlpJsonStatus;
}

export interface OtlpJsonScope {
  name: string;
  version?: string;
  attributes?: OtlpKeyValue[];
}

export interface OtlpJsonScopeSpans {
  scope?: OtlpJsonScope;
  spans: OtlpJsonSpan[];
}

export interface OtlpJsonResourceSpans {
  resource: { attributes: OtlpKeyValue[] };
  scopeSpans: OtlpJsonScopeSpans[];
}

export interface OtlpJsonRequest {
  resourceSpans: OtlpJsonResourceSpans[];
}
