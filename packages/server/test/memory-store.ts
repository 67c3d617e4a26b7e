/**
 * A small in-memory span store for tests: the ingest side's contract (writeSpans merges duplicates,
 * the full record winning over a start record) with trace-by-id lookup. `gate` lets a test hold
 * writes back, to play a store that falls behind.
 */
import type { Span } from '@linktrace/model';
import type { IngestStore } from '../src/pipeline/ingest-store.js';
import { spanKey as keyOf } from './ingest-helpers.js';


export class MemoryStore implements IngestStore {
  readonly spans = new Map<string, Span>();
  writes = 0;
  /** The `arrivedUs` each successful write was given (undefined: the store's clock), in order. */
  readonly arrivals: (number | undefined)[] = [];
  closed = false;
  /** When set, each write waits for it first. */
  gate: (() => Promise<void>) | undefined;
  /** When set, writes reject with it (a store that is down). */
  failure: Error | undefined;

  async writeSpans(spans: readonly Span[], options?: { arrivedUs?: number }): Promise<void> {
    if (this.gate !== undefined) await this.gate();
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new Error('closed');
    this.writes++;
    this.arrivals.push(options?.arrivedUs);
    for (const span of spans) {
      const key = keyOf(span);
      const old = this.spans.get(key);
      if (old === undefined || old.durationUs === undefined || span.durationUs !== undefined) this.spans.set(key, span);
    }
  }

  getTrace(traceId: string): Span[] {
    return [...this.spans.values()].filter((s) => s.traceId === traceId).sort((a, b) => a.startUs - b.startUs);
  }

  hasSpan(traceId: string, spanId: string): boolean {
    for (const s of this.spans.values()) if (s.traceId === traceId && s.spanId === spanId) return true;
    return false;
  }

  stats(): Promise<{ spanRecords: number; findings: number; diskBytes: number }> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return Promise.resolve({ spanRecords: this.spans.size, findings: 0, diskBytes: 0 });
  }

  deleteBefore(us: number): Promise<{ spans: number; findings: number }> {
    let n = 0;
    for (const [k, s] of this.spans) {
      if (s.startUs < us) {
        this.spans.delete(k);
        n++;
      }
    }
    return Promise.resolve({ spans: n, findings: 0 });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
