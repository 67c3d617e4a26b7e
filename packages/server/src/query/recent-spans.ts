/**
 * Answers the store has no index for (Zipkin's remote service names and autocomplete values) come
 * from a sample: the spans of the newest traces, cached briefly so that a UI opening its search form
 * does not make the store fetch the same traces for every drop-down.
 */
import type { Span } from '@linktrace/model';
import type { SpanStore, TraceQuery } from '@linktrace/storage';

export interface RecentSpansOptions {
  /** Newest traces read per sample. Default 200. */
  traces?: number;
  /** How long a sample is reused, ms. Default 30 000. */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  at: number;
  spans: Promise<Span[]>;
}

const MAX_ENTRIES = 256;

export class RecentSpans {
  private readonly cache = new Map<string, Entry>();
  private readonly traces: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: SpanStore,
    options: RecentSpansOptions = {},
  ) {
    this.traces = options.traces ?? 200;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Spans of the newest traces (that have a span of `service`, when given). */
  sample(service?: string): Promise<Span[]> {
    const key = service === undefined ? '' : `s:${service}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < this.ttlMs) return hit.spans;
    const spans = this.load(service);
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { at: now, spans });
    // A failed load is not cached: the next call tries again.
    void spans.catch(() => {
      if (this.cache.get(key)?.spans === spans) this.cache.delete(key);
    });
    return spans;
  }

  private async load(service: string | undefined): Promise<Span[]> {
    const query: TraceQuery = { limit: this.traces };
    if (service !== undefined) query.service = service;
    const found = await this.store.findTraces(query);
    const traces = await this.store.getTraces(found.map((t) => t.traceId));
    return traces.flat();
  }
}
