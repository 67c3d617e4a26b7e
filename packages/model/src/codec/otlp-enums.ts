/** OTLP's SpanKind and StatusCode enums (trace.proto), both directions. */
import type { SpanKind, StatusCode } from '../span.js';

export const OTLP_KIND: Readonly<Record<SpanKind, number>> = {
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};

/** Index = OTLP enum value; SPAN_KIND_UNSPECIFIED (0) is read as internal, as the spec advises. */
export const KIND_FROM_OTLP: readonly SpanKind[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];

export const KIND_NAMES: readonly string[] = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];

export const OTLP_STATUS: Readonly<Record<StatusCode, number>> = { unset: 0, ok: 1, error: 2 };

export const STATUS_FROM_OTLP: readonly StatusCode[] = ['unset', 'ok', 'error'];

export const STATUS_NAMES: readonly string[] = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
