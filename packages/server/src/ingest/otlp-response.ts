/**
 * OTLP/HTTP success answers (ExportTraceServiceResponse): empty on full success, `partial_success`
 * with the rejected count and a message when some spans were rejected. Protobuf answers a protobuf
 * request, JSON a JSON one.
 */
const EMPTY = Buffer.alloc(0);

/** Longest error message sent back: enough to name the first few bad spans. */
const MAX_MESSAGE_CHARS = 2000;

export function partialSuccessMessage(errors: readonly string[]): string {
  const text = errors.join('; ');
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}

/** Bytes of `n` (a non-negative safe integer) as a protobuf varint. */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes `n` as a protobuf varint at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** `ExportTraceServiceResponse` bytes. */
export function otlpProtoResponse(rejected: number, message: string): Buffer {
  if (rejected === 0 && message === '') return EMPTY;
  const text = Buffer.from(message, 'utf8');
  // ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
  const innerLength =
    (rejected > 0 ? 1 + varintLength(rejected) : 0) + (text.length > 0 ? 1 + varintLength(text.length) + text.length : 0);
  const out = Buffer.allocUnsafe(1 + varintLength(innerLength) + innerLength);
  let pos = 0;
  out[pos++] = 0x0a; // field 1 (partial_success), length-delimited
  pos = writeVarint(out, pos, innerLength);
  if (rejected > 0) {
    out[pos++] = 0x08; // field 1, varint
    pos = writeVarint(out, pos, rejected);
  }
  if (text.length > 0) {
    out[pos++] = 0x12; // field 2, length-delimited
    pos = writeVarint(out, pos, text.length);
    pos += text.copy(out, pos);
  }
  return out;
}

export interface OtlpJsonResponse {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}

const FULL_SUCCESS_JSON: OtlpJsonResponse = Object.freeze({});

export function otlpJsonResponse(rejected: number, message: string): OtlpJsonResponse {
  return rejected === 0 && message === '' ? FULL_SUCCESS_JSON : { partialSuccess: { rejectedSpans: rejected, errorMessage: message } };
}
