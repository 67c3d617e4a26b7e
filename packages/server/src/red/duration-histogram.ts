/**
 * A mergeable duration histogram with fixed log-spaced buckets: bucket i holds durations in
 * (GROWTH^(i-1), GROWTH^i] µs, from 1 µs (bucket 0 takes everything ≤ 1 µs) to 1 h (the last bucket
 * takes everything longer). A quantile answers the middle of its bucket, so it is within ±5% of the
 * true nearest-rank value. Fixed buckets make histograms of different minutes and series addable.
 *
 * Sparse: only the index range between the smallest and largest duration seen is allocated (most
 * operations spread over a few dozen buckets), so a cell costs ~100 bytes, not ~1 KiB.
 */
export const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);
/** 1 h in µs. */
export const MAX_TRACKED_US = 3_600_000_000;
export const LAST_BUCKET = Math.ceil(Math.log(MAX_TRACKED_US) / LOG_GROWTH);

/** The bucket of a duration in µs. */
export function bucketOf(us: number): number {
  if (!(us > 1)) return 0;
  const i = Math.ceil(Math.log(us) / LOG_GROWTH - 1e-9);
  return i > LAST_BUCKET ? LAST_BUCKET : i;
}

/** What a quantile that falls in bucket `i` answers, µs: the middle of the bucket (1 for bucket 0). */
export function bucketValue(i: number): number {
  if (i <= 0) return 1;
  return (GROWTH ** (i - 1) + GROWTH ** i) / 2;
}

export class DurationHistogram {
  /** Bucket index of counts[0]. */
  private first = 0;
  private counts: Uint32Array | undefined;
  total = 0;

  record(us: number): void {
    this.add(bucketOf(us), 1);
  }

  /** Adds `n` to bucket `i`, growing the allocated range to hold it. */
  add(i: number, n: number): void {
    let counts = this.counts;
    if (counts === undefined) {
      this.first = i;
      counts = this.counts = new Uint32Array(8);
    } else if (i < this.first || i >= this.first + counts.length) {
      // Doubling (bounded by the whole bucket range), toward the side that needs room.
      const lo = Math.min(i, this.first);
      const hi = Math.max(i + 1, this.first + counts.length);
      const size = Math.min(LAST_BUCKET + 1, Math.max(hi - lo, counts.length * 2));
      const from = Math.min(LAST_BUCKET + 1 - size, Math.max(0, i < this.first ? hi - size : lo));
      const grown = new Uint32Array(size);
      grown.set(counts, this.first - from);
      this.first = from;
      counts = this.counts = grown;
    }
    counts[i - this.first]! += n;
    this.total += n;
  }

  merge(other: DurationHistogram): void {
    const c = other.counts;
    if (c === undefined) return;
    for (let k = 0; k < c.length; k++) if (c[k]! > 0) this.add(other.first + k, c[k]!);
  }

  /** Nearest-rank quantile q ∈ (0, 1], µs; undefined when empty. */
  quantile(q: number): number | undefined {
    const c = this.counts;
    if (c === undefined || this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let k = 0; k < c.length; k++) {
      seen += c[k]!;
      if (seen >= rank) return bucketValue(this.first + k);
    }
    return bucketValue(this.first + c.length - 1);
  }

  /** Non-empty buckets as [index, count, index, count, …], for persistence. */
  toPairs(): number[] {
    const out: number[] = [];
    const c = this.counts;
    if (c !== undefined) for (let k = 0; k < c.length; k++) if (c[k]! > 0) out.push(this.first + k, c[k]!);
    return out;
  }

  static fromPairs(pairs: readonly number[]): DurationHistogram {
    const h = new DurationHistogram();
    for (let k = 0; k + 1 < pairs.length; k += 2) {
      const i = pairs[k]!;
      const n = pairs[k + 1]!;
      if (Number.isSafeInteger(i) && i >= 0 && i <= LAST_BUCKET && Number.isSafeInteger(n) && n > 0) h.add(i, n);
    }
    return h;
  }
}
