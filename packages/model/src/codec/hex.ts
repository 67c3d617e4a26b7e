/**
 * Hex <-> bytes for trace and span ids. Tables are built once so the per-id work is a few array
 * lookups, not string formatting.
 */

const BYTE_TO_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_TO_HEX.push(i.toString(16).padStart(2, '0'));

/** char code -> nibble value, or -1 for a non-hex character (both letter cases accepted). */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/** Lowercase hex of `bytes[start, end)`. */
export function bytesToHex(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) out += BYTE_TO_HEX[bytes[i]];
  return out;
}

/**
 * Writes the bytes of a hex string into `out` at `offset`. The string must already be valid hex
 * (ids in the model are); a non-hex character is written as a zero nibble rather than throwing.
 */
export function hexToBytesInto(hex: string, out: Uint8Array, offset: number): void {
  for (let i = 0, j = offset; i + 1 < hex.length; i += 2, j++) {
    const hi = NIBBLE[hex.charCodeAt(i) & 127];
    const lo = NIBBLE[hex.charCodeAt(i + 1) & 127];
    out[j] = ((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo);
  }
}

/**
 * The lowercase form of `value` if it is `length` hex digits (either case) and not all zero;
 * undefined otherwise. Returns the same string when it is already lowercase (no allocation).
 */
export function normalizeHexId(value: unknown, length: number): string | undefined {
  if (typeof value !== 'string' || value.length !== length) return undefined;
  let upper = false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c > 127 || NIBBLE[c] < 0) return undefined;
    if (c !== 48) nonZero = true;
    if (c >= 65 && c <= 70) upper = true;
  }
  if (!nonZero) return undefined;
  return upper ? value.toLowerCase() : value;
}

/** True when every character of `value` is a lowercase hex digit. */
export function isLowerHex(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
