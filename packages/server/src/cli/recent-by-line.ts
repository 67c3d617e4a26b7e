/**
 * The values of the most recent `limit` lines, by line number (`linktrace infer` names a link's
 * caller service by the caller's line). A Map plus a ring of its keys in insertion order, so
 * dropping the oldest is O(1). Not `map.delete(map.keys().next().value)`: V8's ordered hash table
 * keeps deleted entries as holes until it rehashes and a fresh iterator walks them from the start,
 * so at a steady 200 000 entries each drop scanned up to ~10^5 holes — half the CPU of
 * `linktrace infer` on a 1 M-line log, three quarters on 2 M (docs/benchmarks.md).
 */
export class RecentByLine<V> {
  private readonly byLine = new Map<number, V>();
  /** Keys in insertion order, oldest at `head`; capacity limit + 1 (one over before a drop). */
  private readonly ring: Float64Array;
  private head = 0;

  constructor(private readonly limit: number) {
    this.ring = new Float64Array(limit + 1);
  }

  get size(): number {
    return this.byLine.size;
  }

  get(line: number): V | undefined {
    return this.byLine.get(line);
  }

  /** Sets a line's value (a known line keeps its place in the order, as in a Map); drops the oldest past the limit. */
  set(line: number, value: V): void {
    if (!this.byLine.has(line)) this.ring[(this.head + this.byLine.size) % this.ring.length] = line;
    this.byLine.set(line, value);
    if (this.byLine.size > this.limit) {
      this.byLine.delete(this.ring[this.head]!);
      this.head = (this.head + 1) % this.ring.length;
    }
  }
}
