/**
 * Which attribute keys get a column of their own. A key found on a good share of spans is
 * "promoted": its values go to a dedicated VARCHAR column, which DuckDB dictionary-compresses on its
 * own (a low-cardinality key costs a fraction of a byte per span, a high-cardinality one does not
 * widen the others' dictionary codes), and `key = value` search on it is a plain column compare.
 * Other keys stay in the span's list of `key value` entries. Keys are counted on a sample of the
 * spans written, so the cost on the write path stays small.
 */

export interface AttributeColumnPolicy {
  /** Most promoted keys (columns). Default 48. */
  maxColumns?: number;
  /** Count the keys of one span in this many. Default 8. */
  sampleEvery?: number;
  /** Decide after this many sampled spans. Default 128. */
  window?: number;
  /** Promote a key found on at least this share of the sampled spans. Default 0.05. */
  minShare?: number;
}

export class AttributeColumns {
  /** Key of each promoted column, by slot (column `a<slot>`). */
  readonly keys: string[];
  readonly slotOf = new Map<string, number>();
  private readonly maxColumns: number;
  private readonly sampleEvery: number;
  private readonly window: number;
  private readonly minCount: number;
  private readonly counts = new Map<string, number>();
  private sinceSample = 0;
  private sampled = 0;
  /** Slots promoted since the last `takeNew()`. */
  private fresh: number[] = [];

  constructor(existing: readonly string[], policy: AttributeColumnPolicy = {}) {
    this.keys = [...existing];
    for (let i = 0; i < this.keys.length; i++) this.slotOf.set(this.keys[i]!, i);
    this.maxColumns = policy.maxColumns ?? 48;
    this.sampleEvery = Math.max(1, policy.sampleEvery ?? 8);
    this.window = Math.max(1, policy.window ?? 128);
    this.minCount = Math.max(1, Math.ceil(this.window * (policy.minShare ?? 0.05)));
  }

  /** True when this span's keys should be counted (call once per span). */
  shouldSample(): boolean {
    if (this.keys.length >= this.maxColumns) return false;
    if (++this.sinceSample < this.sampleEvery) return false;
    this.sinceSample = 0;
    return true;
  }

  /** Counts the not-yet-promoted keys of one sampled span; promotes when a window is complete. */
  count(unpromotedKeys: readonly string[]): void {
    for (const k of unpromotedKeys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    if (++this.sampled < this.window) return;
    const winners = [...this.counts].filter(([, n]) => n >= this.minCount).sort((a, b) => b[1] - a[1]);
    for (const [key] of winners) {
      if (this.keys.length >= this.maxColumns) break;
      this.slotOf.set(key, this.keys.length);
      this.fresh.push(this.keys.length);
      this.keys.push(key);
    }
    this.counts.clear();
    this.sampled = 0;
  }

  /** Slots promoted since the last call: the store adds their columns before inserting rows that use them. */
  takeNew(): number[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }
}
