/** The wire codecs' public API (the rest of this folder is internal to the codecs). */
export { CodecError } from './codec-error.js';
export { MAX_DECODE_ERRORS, REJECT_REASONS, type DecodeResult, type RejectReason } from './decode-result.js';
export { LIMITS, UNKNOWN_SERVICE, normalizeSpanId, normalizeTraceId, validateSpan, findSpanProblem } from './validate.js';
export type { SpanProblem } from './validate.js';
export { RESOURCE_ATTR, WIRE_ATTR } from './wire-attributes.js';
export { decodeOtlpJson, encodeOtlpJson } from './otlp-json.js';
export type {
  OtlpAnyValue,
  OtlpJsonEvent,
  OtlpJsonLink,
  OtlpJsonRequest,
  OtlpJsonResourceSpans,
  OtlpJsonScope,
  OtlpJsonScopeSpans,
  OtlpJsonSpan,
  OtlpJsonStatus,
  OtlpKeyValue,
} from './otlp-json-types.js';
export { decodeOtlpProto, encodeOtlpProto } from './otlp-proto.js';
export { decodeZipkinJson, encodeZipkinJson, tagString } from './zipkin-json.js';
export { OTEL_STATUS_TAG, ZIPKIN_ERROR_TAG, type ZipkinAnnotation, type ZipkinEndpoint, type ZipkinKind, type ZipkinSpan } from './zipkin-types.js';
export { decodeNativeJson, encodeNativeJson } from './native-json.js';
export {
  NATIVE_FORMAT,
  type NativeAttributeValue,
  type NativeAttributes,
  type NativeBytes,
  type NativeDouble,
  type NativeJsonBatch,
  type NativeJsonEvent,
  type NativeJsonLink,
  type NativeJsonResource,
  type NativeJsonSpan,
} from './native-json-types.js';
