/**
 * The streaming checker's state: spans grouped by trace until the trace is due for checking (DESIGN
 * §4: no new span for the check delay, or a maximum wait since its first span). Pure state — the
 * caller passes the clock, schedules `due`, and `take`s what it checks. `nowUs` must not go back.
 *
 * Memory is bounded: at most `maxOpenTraces` traces and `maxSpansPerTrace` spans each; spans of a
 * trace that does not fit are refused and counted, never evicting a trace that is already open.
 * Each span is held as its compact form (`compactSpan`: what the checks read, ~10× smaller than a
 * decoded span), so a trace waiting out the check delay costs little and its spans are not kept
 * alive with every attribute, event and resource of the request that brought them.
 */
import type { Span } from '@linktrace/model';
import { compactSpan, StringPool } from './check-span.js';

export interface TraceBufferOptions {
  /** Quiet delay in ms: a trace is due when no span arrived for this long. Default 30 000. */
  checkDelayMs?: number;
  /** A trace is due this many ms after its first span arrived, even if spans keep coming. Default 300 000. */
  maxWaitMs?: number;
  /** Default 100 000. */
  maxOpenTraces?: number;
  /** Default 10 000. */
  maxSpansPerTrace?: number;
  /**
   * Called once per run of spans refused because `maxOpenTraces` traces are open (the store holds
   * spans of that trace the buffer never will).
   */
  onRefuse?: (traceId: string) => void;
}

export interface TakenTrace {
  traceId: string;
  /** Compact spans (`compactSpan`), in arrival order. */
  spans: Span[];
  /** Spans of this trace refused because it was full. */
  droppedSpans: number;
  /** Arrival times (the `nowUs` of `add`) of its first and last span. */
  firstUs: number;
  lastUs: number;
}

export interface TraceBufferStats {
  openTraces: number;
  openSpans: number;
  /** Traces refused because `maxOpenTraces` were open (all their spans are counted in droppedSpans too). */
  droppedTraces: number;
  /** Spans refused: of refused traces, and beyond `maxSpansPerTrace`. */
  droppedSpans: number;
  /** Records without a string trace id, ignored. */
  invalidSpans: number;
}

interface OpenTrace {
  /** The trace id all its compact spans share. */
  traceId: string;
  spans: Span[];
  dropped: number;
  firstUs: number;
  lastUs: number;
  /** The arrival time this entry is ordered by in `open` (lags `lastUs` until `due` moves it). */
  orderUs: number;
}

export const DEFAULT_CHECK_DELAY_MS = 30_000;
export const DEFAULT_MAX_WAIT_MS = 300_000;
export const DEFAULT_MAX_OPEN_TRACES = 100_000;
export const DEFAULT_MAX_SPANS_PER_TRACE = 10_000;

function positive(v: number | undefined, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

export class TraceBuffer {
  private readonly delayUs: number;
  private readonly maxWaitUs: number;
  private readonly maxTraces: number;
  private readonly maxSpans: number;
  private readonly onRefuse: ((traceId: string) => void) | undefined;
  private readonly pool = new StringPool();
  /** Insertion order = order of `orderUs`, so the quiet scan stops at the first trace not yet quiet. */
  private readonly open = new Map<string, OpenTrace>();
  /** Traces by first arrival, for the maximum wait; entries of taken traces are skipped lazily. */
  private readonly arrivals: { traceId: string; firstUs: number }[] = [];
  private arrivalsHead = 0;
  private openSpans = 0;
  private droppedTraces = 0;
  private droppedSpans = 0;
  private invalidSpans = 0;

  constructor(options: TraceBufferOptions = {}) {
    this.delayUs = positive(options.checkDelayMs, DEFAULT_CHECK_DELAY_MS) * 1000;
    this.maxWaitUs = positive(options.maxWaitMs, DEFAULT_MAX_WAIT_MS) * 1000;
    this.maxTraces = Math.floor(positive(options.maxOpenTraces, DEFAULT_MAX_OPEN_TRACES));
    this.maxSpans = Math.floor(positive(options.maxSpansPerTrace, DEFAULT_MAX_SPANS_PER_TRACE));
    this.onRefuse = options.onRefuse;
  }

  /** Adds spans of any traces. Returns how many were accepted. */
  add(spans: readonly Span[], nowUs: number): number {
    let accepted = 0;
    let last: OpenTrace | undefined;
    let lastId = '';
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i]!;
      const id = typeof s === 'object' && s !== null ? s.traceId : undefined;
      if (typeof id !== 'string' || id.length === 0) {
        this.invalidSpans++;
        continue;
      }
      // Batches usually hold runs of one trace: skip the lookup for those.
      let t = id === lastId ? last : this.open.get(id);
      if (t === undefined) {
        if (this.open.size >= this.maxTraces) {
          this.droppedTraces++;
          this.droppedSpans++;
          // Count the rest of this trace's run as one refused trace.
          while (i + 1 < spans.length && spans[i + 1]?.traceId === id) {
            this.droppedSpans++;
            i++;
          }
          this.onRefuse?.(id);
          continue;
        }
        t = { traceId: id, spans: [], dropped: 0, firstUs: nowUs, lastUs: nowUs, orderUs: nowUs };
        this.open.set(id, t);
        this.arrivals.push({ traceId: id, firstUs: nowUs });
      }
      last = t;
      lastId = id;
      t.lastUs = nowUs;
      if (t.spans.length >= this.maxSpans) {
        t.dropped++;
        this.droppedSpans++;
        continue;
      }
      t.spans.push(compactSpan(s, t.traceId, this.pool));
      this.openSpans++;
      accepted++;
    }
    return accepted;
  }

  /** Ids of the open traces that are due: quiet for the check delay, or open for the maximum wait. */
  due(nowUs: number): string[] {
    const out: string[] = [];
    const quietBefore = nowUs - this.delayUs;
    for (const [id, t] of this.open) {
      if (t.lastUs <= quietBefore) {
        out.push(id);
        continue;
      }
      if (t.orderUs === t.lastUs) break;
      // Spans arrived since this entry was placed: move it to its place at the end.
      this.open.delete(id);
      t.orderUs = t.lastUs;
      this.open.set(id, t);
    }
    const waitedBefore = nowUs - this.maxWaitUs;
    const seen = out.length > 0 ? new Set(out) : undefined;
    for (let i = this.arrivalsHead; i < this.arrivals.length; i++) {
      const a = this.arrivals[i]!;
      if (a.firstUs > waitedBefore) break;
      const t = this.open.get(a.traceId);
      if (t !== undefined && t.firstUs === a.firstUs && seen?.has(a.traceId) !== true) out.push(a.traceId);
    }
    return out;
  }

  /** Whether the trace is open (holds spans, or refused some beyond its cap). */
  has(traceId: string): boolean {
    return this.open.has(traceId);
  }

  /** Removes an open trace and returns its spans; undefined when it is not open. */
  take(traceId: string): TakenTrace | undefined {
    const t = this.open.get(traceId);
    if (t === undefined) return undefined;
    this.open.delete(traceId);
    this.openSpans -= t.spans.length;
    this.compactArrivals();
    return { traceId, spans: t.spans, droppedSpans: t.dropped, firstUs: t.firstUs, lastUs: t.lastUs };
  }

  stats(): TraceBufferStats {
    return {
      openTraces: this.open.size,
      openSpans: this.openSpans,
      droppedTraces: this.droppedTraces,
      droppedSpans: this.droppedSpans,
      invalidSpans: this.invalidSpans,
    };
  }

  /** Drops arrival entries of traces no longer open from the front; the array is cut when half is dead. */
  private compactArrivals(): void {
    const a = this.arrivals;
    while (this.arrivalsHead < a.length) {
      const head = a[this.arrivalsHead]!;
      const t = this.open.get(head.traceId);
      if (t !== undefined && t.firstUs === head.firstUs) break;
      this.arrivalsHead++;
    }
    if (this.arrivalsHead > 1024 && this.arrivalsHead * 2 > a.length) {
      a.splice(0, this.arrivalsHead);
      this.arrivalsHead = 0;
    }
  }
}
