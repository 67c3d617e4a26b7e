/**
 * The values of the most recent `limit` lines, by line number (`linktrace infer` names a link's
 * caller service by the caller's line). The oldest is dropped through `OldestFirst` (O(1)): with
 * `map.delete(map.keys().next().value)` each drop at a steady 200 000 entries scanned up to ~10^5
 * holes of V8's table — half the CPU of `linktrace infer` on a 1 M-line log, three quarters on 2 M
 * (docs/benchmarks.md).
 */
import { OldestFirst } from '@linktrace/model';

export class RecentByLine<V> {
  private readonly byLine = new Map<number, V>();
  private readonly oldest = new OldestFirst(this.byLine);

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.byLine.size;
  }

  get(line: number): V | undefined {
    return this.byLine.get(line);
  }

  /** Sets a line's value (a known line keeps its place in the order, as in a Map); drops the oldest past the limit. */
  set(line: number, value: V): void {
    this.byLine.set(line, value);
    this.oldest.trimTo(this.limit);
  }
}
