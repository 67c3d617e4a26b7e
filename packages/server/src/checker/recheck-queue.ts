/**
 * Traces checked before their deadlines passed (a consumer or a flow step may still come): each is
 * checked once more when its last deadline is over. Bounded; what does not fit is counted. Each
 * keeps the compact spans it was checked with, so the re-check needs no store read — unless it
 * holds none (a refused trace, or the memory budget was full): then the trace is read back.
 */
import type { Span } from '@linktrace/model';

export interface Recheck {
  atUs: number;
  traceId: string;
  /** First arrival of the trace, for the checkpoint. */
  firstUs: number;
  /** The (compact) spans of the whole trace as last checked. */
  spans: Span[];
  /**
   * Spans of it kept arriving (not held): when due before this, it waits until then instead, like a
   * trace in the buffer waits to be quiet.
   */
  quietUs?: number;
}

export class RecheckQueue {
  /** Sorted by `atUs`. */
  private readonly items: Recheck[] = [];
  private readonly ids = new Map<string, Recheck>();
  dropped = 0;
  /** Spans the waiting re-checks hold (for the memory budget). */
  heldSpans = 0;

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
    // After every item due at or before it (binary search: a re-check deferred until its trace is
    // quiet lands anywhere, and thousands are deferred in one round under a flood).
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.atUs <= item.atUs) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    this.ids.set(item.traceId, item);
    this.heldSpans += item.spans.length;
    return true;
  }

  /** Removes and returns the re-checks due at `nowUs`, at most `limit`. */
  takeDue(nowUs: number, limit: number): Recheck[] {
    let n = 0;
    while (n < this.items.length && n < limit && this.items[n]!.atUs <= nowUs) n++;
    if (n === 0) return [];
    const out = this.items.splice(0, n);
    for (const r of out) {
      this.ids.delete(r.traceId);
      this.heldSpans -= r.spans.length;
    }
    return out;
  }

  /** Removes the trace's re-check, when one waits (late spans of it are being checked now). */
  take(traceId: string): Recheck | undefined {
    const r = this.ids.get(traceId);
    if (r === undefined) return undefined;
    this.ids.delete(traceId);
    this.items.splice(this.items.indexOf(r), 1);
    this.heldSpans -= r.spans.length;
    return r;
  }

  /**
   * The store has spans of a waiting trace that its re-check does not hold: it lets its spans go,
   * reads the trace back when due, and waits until `quietUs` for that. False when the trace is not
   * waiting.
   */
  readBackWhenDue(traceId: string, quietUs: number): boolean {
    const r = this.ids.get(traceId);
    if (r === undefined) return false;
    this.heldSpans -= r.spans.length;
    r.spans = [];
    r.quietUs = quietUs;
    return true;
  }
}
