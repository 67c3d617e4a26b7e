/**
 * FNV-1a over a string's UTF-16 code units, then murmur3's 32-bit finalizer (fmix32): a fast,
 * allocation-free 32-bit hash whose every bit depends on every character. FNV-1a alone mixes the
 * last characters poorly into the high bits, which matters for time-prefixed ids. Used where every
 * process must compute the same value (sampling decisions, ids derived from foreign ids).
 */
export const FNV1A_OFFSET_BASIS = 0x811c9dc5;

export function stringHash32(text: string, seed: number = FNV1A_OFFSET_BASIS): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
