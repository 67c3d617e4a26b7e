/**
 * A small least-recently-used cache of values loaded asynchronously, keyed by block file: block
 * files are immutable and their names never reused, so an entry never goes stale; a failed load is
 * forgotten (the next read tries again).
 */
import { OldestFirst } from '@linktrace/model';

export class PromiseLru<V> {
  private readonly entries = new Map<string, Promise<V>>();
  private readonly oldest = new OldestFirst(this.entries);

  constructor(private readonly limit: number) {}

  /** The cached value of `key`, loading it with `load` when absent. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    let p = this.entries.get(key);
    if (p !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, p);
      return p;
    }
    p = load();
    this.entries.set(key, p);
    p.catch(() => {
      if (this.entries.get(key) === p) this.entries.delete(key);
    });
    this.oldest.trimTo(this.limit);
    return p;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
