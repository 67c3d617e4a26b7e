/**
 * Linktrace's own JSON wire format (`linktrace/1`): model spans almost as they are, with the few
 * values JSON cannot carry tagged, and batch-wide fields written once.
 */
import type { AttributeScalar, DroppedCounts, Endpoint, SpanKind, SpanStatus } from '../span.js';

export const NATIVE_FORMAT = 'linktrace/1';

/** A number JSON cannot represent. */
export interface NativeDouble {
  double: 'NaN' | 'Infinity' | '-Infinity';
}

/** Raw bytes, base64. */
export interface NativeBytes {
  bytes: string;
}

export type NativeAttributeValue = AttributeScalar | (AttributeScalar | NativeDouble)[] | NativeBytes | NativeDouble;
export type NativeAttributes = Record<string, NativeAttributeValue>;

export interface NativeJsonEvent {
  timeUs: number;
  name: string;
  attributes?: NativeAttributes;
}

export interface NativeJsonLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes?: NativeAttributes;
}

export interface NativeJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  rpcid?: string;
  /** Absent when the batch's `resource.service` applies. */
  service?: string;
  instance?: string;
  name: string;
  kind: SpanKind;
  startUs: number;
  /** Absent on a start record. */
  durationUs?: number;
  /** Absent means unset. */
  status?: SpanStatus;
  attributes?: NativeAttributes;
  events?: NativeJsonEvent[];
  links?: NativeJsonLink[];
  traceState?: string;
  resource?: NativeAttributes;
  scope?: { name: string; version?: string; attributes?: NativeAttributes };
  remote?: Endpoint;
  shared?: boolean;
  debug?: boolean;
  /** The sender gave no start time (`startUs` is then 0). */
  startUnknown?: boolean;
  /** Finished, length not reported (no `durationUs`, and not a start record). */
  durationUnknown?: boolean;
  doubleKeys?: string[];
  dropped?: DroppedCounts;
}

/** Defaults for every span of the batch; a span's own field wins. */
export interface NativeJsonResource {
  service?: string;
  instance?: string;
  attributes?: NativeAttributes;
}

export interface NativeJsonBatch {
  format: typeof NATIVE_FORMAT;
  resource?: NativeJsonResource;
  spans: NativeJsonSpan[];
}
