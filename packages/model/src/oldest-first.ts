/**
 * Takes a Map's oldest entries (insertion order) in O(1) amortised, for maps kept to a bound.
 *
 * Not `map.delete(map.keys().next().value)`: V8's ordered hash table keeps deleted entries as holes
 * until it rehashes, and every new iterator walks them from the start, so a bounded map that churns
 * pays O(size) per drop (measured on Node 20: 6 µs per drop at 10 000 entries, 16 µs at 50 000,
 * against 0.5 with this). One iterator kept across calls passes each hole once. It stays right
 * whatever else happens to the map: entries deleted elsewhere are skipped, and a key deleted and set
 * again (an LRU's refresh) moves behind the cursor, to the end of the order, as in the Map itself.
 */
export class OldestFirst<K, V> {
  private cursor: IterableIterator<[K, V]>;

  constructor(private readonly map: Map<K, V>) {
    this.cursor = map.entries();
  }

  /** Removes the oldest entry and returns it; undefined when the map is empty. */
  take(): [K, V] | undefined {
    let next = this.cursor.next();
    if (next.done === true) {
      // An exhausted iterator stays exhausted, even after new entries: start again from the front.
      this.cursor = this.map.entries();
      next = this.cursor.next();
      if (next.done === true) return undefined;
    }
    this.map.delete(next.value[0]);
    return next.value;
  }

  /** Takes the oldest entries until the map holds at most `limit`. */
  trimTo(limit: number): void {
    while (this.map.size > limit && this.take() !== undefined);
  }
}
