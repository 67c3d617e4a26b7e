/**
 * OTLP times are uint64 nanoseconds; the model keeps µs as plain numbers. These conversions are
 * exact for integral µs (no BigInt, no float rounding): ns values beyond 2^53 are split into
 * 32-bit halves or handled as decimal strings.
 */

const TWO_32 = 4294967296;

/** Decimal string of `us * 1000` (fractions of a µs are kept to the ns). */
export function microsToNanoString(us: number): string {
  if (Number.isInteger(us)) return us === 0 ? '0' : `${us}000`;
  const whole = Math.floor(us);
  const ns = Math.round((us - whole) * 1000);
  if (ns === 1000) return `${whole + 1}000`;
  return whole === 0 ? String(ns) : `${whole}${String(ns).padStart(3, '0')}`;
}

/** Low and high 32-bit halves of `us * 1000` as an unsigned 64-bit integer. */
export function microsToNanoHalves(us: number, out: { lo: number; hi: number }): void {
  let whole = Math.floor(us);
  let frac = Math.round((us - whole) * 1000);
  if (frac === 1000) {
    whole += 1;
    frac = 0;
  }
  const wl = whole % TWO_32;
  const wh = Math.floor(whole / TWO_32);
  const low = wl * 1000 + frac; // < 2^42: exact
  const carry = Math.floor(low / TWO_32);
  out.lo = low % TWO_32 >>> 0;
  out.hi = (wh * 1000 + carry) >>> 0;
}

/** floor(ns / 1000) for ns = hi * 2^32 + lo, exact while the result is below 2^53. */
export function nanoHalvesToMicros(lo: number, hi: number): number {
  // 2^32 = 4294967 * 1000 + 296
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
}

/**
 * µs of a uint64 ns value given as a decimal string (OTLP JSON), or -1 if the string is not
 * 1-20 digits or the µs would exceed Number.MAX_SAFE_INTEGER.
 */
export function nanoStringToMicros(s: string): number {
  const n = s.length;
  if (n === 0 || n > 20) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  if (n <= 3) return 0;
  const us = Number(s.slice(0, n - 3));
  return us <= Number.MAX_SAFE_INTEGER ? us : -1;
}
