/**
 * Id checks shared by the propagators. They work on char codes over a range of the input, so a
 * header can be validated in place before any substring is cut from it.
 */

const ZERO = 48; // '0'
const NINE = 57;
const LOWER_A = 97;
const LOWER_F = 102;

/** True when `s[start..end)` is non-empty lowercase hex. */
export function isLowerHexRange(s: string, start: number, end: number): boolean {
  if (end <= start || end > s.length) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c < ZERO || c > NINE) && (c < LOWER_A || c > LOWER_F)) return false;
  }
  return true;
}

/** True when `s[start..end)` is all `0`. */
export function isZeroRange(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) !== ZERO) return false;
  return true;
}

/** 16 lowercase hex, not all zero. */
export function isValidSpanId(id: unknown): id is string {
  return typeof id === 'string' && id.length === 16 && isLowerHexRange(id, 0, 16) && !isZeroRange(id, 0, 16);
}

/** 32 lowercase hex, or Zipkin's 16 (DESIGN §2), not all zero. */
export function isValidTraceId(id: unknown): id is string {
  return (
    typeof id === 'string' &&
    (id.length === 32 || id.length === 16) &&
    isLowerHexRange(id, 0, id.length) &&
    !isZeroRange(id, 0, id.length)
  );
}

/**
 * Cuts a valid trace id out of `s[start..start+len)` (len 16 or 32, already checked to be lowercase
 * hex and not all zero). A 32-hex id whose upper half is zero is a 64-bit Zipkin id that went through
 * a 128-bit format: it becomes 16 hex again, as Zipkin does, so every hop records the same id.
 */
export function sliceTraceId(s: string, start: number, len: 16 | 32): string {
  if (len === 32 && isZeroRange(s, start, start + 16)) return s.slice(start + 16, start + 32);
  return s.slice(start, start + len);
}

const PAD_64 = '0000000000000000';

/** The 32-hex form of a valid trace id (formats that only know 128-bit ids, like W3C). */
export function toTraceId128(traceId: string): string {
  return traceId.length === 16 ? PAD_64 + traceId : traceId;
}
