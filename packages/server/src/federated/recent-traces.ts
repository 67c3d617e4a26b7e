/**
 * The agent's answer for recent traces without a store read: the records of the traces it took
 * last (fed once they are in the write-ahead log, before the store has them), by trace id, bounded in spans (whole traces leave, oldest first). A trace is only answered
 * from here when every record of it the agent stored is here: its id's time (DESIGN §2) must be
 * after the newest id time evicted and after the agent started on a non-empty store, so a late
 * record of an evicted trace, or a trace begun before a restart, is read from the store instead.
 * Foreign ids (no time in them) always are.
 */
import { decodeTraceId, OldestFirst, type Span } from '@linktrace/model';
import { mergeRecords } from '@linktrace/storage';

export const DEFAULT_RECENT_SPANS = 50_000;
/** Clocks of the hosts that start traces may run ahead of the agent's by this much. */
const CLOCK_SLACK_MS = 60_000;

export class RecentTraces {
  private readonly traces = new Map<string, Span[]>();
  private readonly oldest = new OldestFirst(this.traces);
  private spans = 0;
  /** Traces whose id time is not after this (ms) are never answered from here. */
  private watermarkMs: number;

  constructor(
    startMs: number,
    private readonly maxSpans = DEFAULT_RECENT_SPANS,
  ) {
    this.watermarkMs = startMs + CLOCK_SLACK_MS;
  }

  /** The store held nothing when the agent started: every trace it stores from now on is whole here. */
  storeWasEmpty(): void {
    if (this.spans === 0 && this.traces.size === 0) this.watermarkMs = 0;
  }

  observe(spans: readonly Span[]): void {
    for (const s of spans) {
      let list = this.traces.get(s.traceId);
      if (list === undefined) {
        const time = decodeTraceId(s.traceId)?.timeMs;
        if (time === undefined || time <= this.watermarkMs) continue;
        this.traces.set(s.traceId, (list = []));
      }
      list.push(s);
      this.spans++;
    }
    while (this.spans > this.maxSpans) {
      const oldest = this.oldest.take();
      if (oldest === undefined) break;
      this.spans -= oldest[1].length;
      this.watermarkMs = Math.max(this.watermarkMs, decodeTraceId(oldest[0])?.timeMs ?? 0);
    }
  }

  /** The trace's spans as the store would give them (records merged, by start); undefined: ask the store. */
  get(traceId: string): Span[] | undefined {
    const records = this.traces.get(traceId);
    if (records === undefined) return undefined;
    return mergeRecords(records).sort((a, b) => a.startUs - b.startUs);
  }
}
