/**
 * Traces checked before their deadlines passed (a consumer or a flow step may still come): each is
 * checked once more when its last deadline is over. Bounded; what does not fit is counted.
 */
export interface Recheck {
  atUs: number;
  traceId: string;
  /** First arrival of the trace, for the checkpoint. */
  firstUs: number;
}

export class RecheckQueue {
  /** Sorted by `atUs` (inserts are near the end: deadlines grow with the clock). */
  private readonly items: Recheck[] = [];
  private readonly ids = new Set<string>();
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.items.length;
  }

  /** False when the trace was already waiting or the queue is full (then counted as dropped). */
  add(item: Recheck): boolean {
    if (this.ids.has(item.traceId)) return false;
    if (this.items.length >= this.max) {
      this.dropped++;
      return false;
    }
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.atUs > item.atUs) i--;
    this.items.splice(i, 0, item);
    this.ids.add(item.traceId);
    return true;
  }

  /** Removes and returns the re-checks due at `nowUs`, at most `limit`. */
  takeDue(nowUs: number, limit: number): Recheck[] {
    let n = 0;
    while (n < this.items.length && n < limit && this.items[n]!.atUs <= nowUs) n++;
    if (n === 0) return [];
    const out = this.items.splice(0, n);
    for (const r of out) this.ids.delete(r.traceId);
    return out;
  }
}
