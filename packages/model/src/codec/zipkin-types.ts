/** The Zipkin v2 span JSON shape (zipkin2 API, `POST /api/v2/spans`). */

export type ZipkinKind = 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';

export interface ZipkinEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface ZipkinAnnotation {
  /** µs since epoch */
  timestamp: number;
  value: string;
}

export interface ZipkinSpan {
  /** 16 or 32 lowercase hex */
  traceId: string;
  id: string;
  parentId?: string;
  kind?: ZipkinKind;
  name?: string;
  /** µs since epoch; absent when unknown (late data, the untimed half of a shared span) */
  timestamp?: number;
  /** µs; absent when unknown, and on our start records (which carry the tag `linktrace.start_record`) */
  duration?: number;
  localEndpoint?: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  annotations?: ZipkinAnnotation[];
  tags?: Record<string, string>;
  debug?: boolean;
  shared?: boolean;
}

/** The tag Zipkin uses for a failed span; its value is the error message. */
export const ZIPKIN_ERROR_TAG = 'error';
/** The tag OpenTelemetry's Zipkin exporter uses for an OK status (Zipkin itself only knows `error`). */
export const OTEL_STATUS_TAG = 'otel.status_code';
