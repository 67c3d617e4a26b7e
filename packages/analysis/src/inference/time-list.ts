/**
 * The per-key lists of inference's indices (records of one instance, one connection, one endpoint
 * and host), sorted by start. Records enter as they join the held context and leave from the front
 * as the window moves on, so the indices are kept across blocks instead of rebuilt for each (every
 * record is held for about three blocks).
 */

export interface Timed {
  /** Start, µs. */
  readonly s: number;
}

/**
 * Sort comparator by start. It answers −1 / 0 / 1, never `a.s − b.s`: a comparator called from
 * Array.prototype.sort returns its answer boxed when it is not a small integer, and start times
 * in µs since the epoch differ by doubles — a heap number per comparison.
 */
export function byStart(a: Timed, b: Timed): number {
  return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
}

/** Front entries dropped before the array is compacted (amortised O(1) per drop). */
const COMPACT_AFTER = 64;

export class TimeList<T extends Timed> {
  items: T[] = [];
  /** Index of the first live entry: entries before it were dropped. */
  head = 0;

  constructor(
    private readonly owner: Map<string, TimeList<T>>,
    /** Its key in the owner map. */
    readonly key: string,
  ) {}

  /** The list under `key`, created (and registered) when missing. */
  static in<T extends Timed>(owner: Map<string, TimeList<T>>, key: string): TimeList<T> {
    let list = owner.get(key);
    if (list === undefined) owner.set(key, (list = new TimeList(owner, key)));
    return list;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get first(): T {
    return this.items[this.head]!;
  }

  /** Inserts after every entry that starts at or before it (equal starts keep arrival order). */
  insert(x: T): void {
    const items = this.items;
    if (items.length === this.head || items[items.length - 1]!.s <= x.s) items.push(x);
    else items.splice(this.upperBound(x.s), 0, x);
  }

  /** First live index whose start is ≥ s. */
  lowerBound(s: number): number {
    const items = this.items;
    let lo = this.head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid]!.s < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First live index whose start is > s. */
  upperBound(s: number): number {
    const items = this.items;
    let lo = this.head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid]!.s <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Removes `x`: the window drops records oldest first, so it is the front entry and this is O(1);
   * anything else is found and spliced out. An emptied list leaves its owner (keys such as
   * connections come and go over a long log: the index stays bounded by the window).
   */
  remove(x: T): void {
    const items = this.items;
    if (items[this.head] === x) {
      items[this.head++] = undefined as unknown as T;
    } else {
      const at = items.indexOf(x, this.head);
      if (at < 0) return;
      items.splice(at, 1);
    }
    if (this.head === items.length) {
      this.items = [];
      this.head = 0;
      if (this.owner.get(this.key) === this) this.owner.delete(this.key);
    } else if (this.head >= COMPACT_AFTER && 2 * this.head >= items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }
}
