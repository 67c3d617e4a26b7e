/**
 * Traces awaiting evaluation (open, being checked, or waiting for a re-check), counted by the second
 * their first span arrived. The oldest second with a count is the checkpoint: a few hundred buckets
 * at most (the maximum wait in seconds), and no per-trace state beyond what the buffer holds.
 */
const US_PER_BUCKET = 1_000_000;

export class PendingArrivals {
  private readonly counts = new Map<number, number>();

  add(firstUs: number, traces = 1): void {
    if (traces <= 0) return;
    const b = Math.floor(firstUs / US_PER_BUCKET);
    this.counts.set(b, (this.counts.get(b) ?? 0) + traces);
  }

  remove(firstUs: number): void {
    const b = Math.floor(firstUs / US_PER_BUCKET);
    const n = (this.counts.get(b) ?? 0) - 1;
    if (n > 0) this.counts.set(b, n);
    else this.counts.delete(b);
  }

  /** Start (µs) of the oldest second holding a pending trace; `nowUs` when none is pending. */
  oldestUs(nowUs: number): number {
    let min = Infinity;
    for (const b of this.counts.keys()) if (b < min) min = b;
    return min === Infinity ? nowUs : min * US_PER_BUCKET;
  }
}
