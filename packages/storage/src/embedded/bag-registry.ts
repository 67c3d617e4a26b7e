/**
 * What the store has written, kept in memory so that a search can leave out tests that cannot match.
 */

/**
 * Every distinct resource and scope attribute text stored. A process has one resource, so there are
 * few of them; knowing them all lets a search decide in JS which ones hold `key = value` and ask
 * DuckDB for `resource IN (…)` (or skip the test when none does) instead of a substring test on
 * every row. Past `limit` distinct texts the registry gives up and searches fall back to the
 * substring test.
 */
export class BagRegistry {
  private readonly bags = new Set<string>();
  private overflowed = false;

  constructor(private readonly limit = 20_000) {}

  add(bag: string): void {
    if (this.overflowed || this.bags.has(bag)) return;
    if (this.bags.size >= this.limit) {
      this.overflowed = true;
      this.bags.clear();
      return;
    }
    this.bags.add(bag);
  }

  /** The known texts containing `needle`, or undefined when the registry cannot tell. */
  matching(needle: string): string[] | undefined {
    if (this.overflowed) return undefined;
    const out: string[] = [];
    for (const b of this.bags) if (b.includes(needle)) out.push(b);
    return out;
  }
}

/**
 * Attribute keys ever stored in one place (the `rest` lists, or event and link attributes). A key
 * never stored there needs no test there, which leaves a promoted key's search a plain column
 * comparison DuckDB runs inside the scan. Past `limit` keys it answers "maybe" for every key.
 */
export class KeyRegistry {
  private readonly keys = new Set<string>();
  private overflowed = false;

  constructor(private readonly limit = 10_000) {}

  add(key: string): void {
    if (this.overflowed || this.keys.has(key)) return;
    if (this.keys.size >= this.limit) {
      this.overflowed = true;
      this.keys.clear();
      return;
    }
    this.keys.add(key);
  }

  mayHold(key: string): boolean {
    return this.overflowed || this.keys.has(key);
  }
}
