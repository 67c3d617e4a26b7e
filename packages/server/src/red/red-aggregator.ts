/**
 * RED metrics (rate, errors, duration) computed at ingest from every stored span: per service, per
 * (service, operation) and per dependency edge, in 1-minute cells kept for 24 h, each a count, an
 * error count and a DurationHistogram. Queries merge cells; nothing scans spans at query time.
 *
 * Cardinality is bounded: at most `maxServices` services (later ones count as `other`), at most
 * `maxOperations` operations per service (later ones count as `other`), at most `maxEdges` edges.
 * The same capped names label the Prometheus histogram, so /metrics stays bounded too. Memory is
 * counted (`size`, for --max-memory); while `mayGrow` says no, new names count as `other` too.
 */
import { isStartRecord, type Span } from '@linktrace/model';
import { DurationHistogram } from './duration-histogram.js';

export const MINUTE_US = 60_000_000;
/** Cells kept: 24 h of minutes. */
export const KEPT_MINUTES = 24 * 60;
export const OTHER = 'other';
const PRUNE_EVERY_MINUTES = 10;

/**
 * Estimated heap bytes of a cell (Map entry, cell, histogram and its typed array: 458 measured over
 * 105 000 cells of 5 spans each) and of a series (its Map and name). Counted, never measured: the
 * memory budget reads the total on every ingest request.
 */
export const CELL_BYTES = 460;
export const SERIES_BYTES = 400;

/** What the aggregator holds, kept as counters. */
export class RedSize {
  series = 0;
  cells = 0;

  get bytes(): number {
    return this.series * SERIES_BYTES + this.cells * CELL_BYTES;
  }
}

export interface RedCell {
  count: number;
  errors: number;
  hist: DurationHistogram;
}

/** One series: its cells by minute (µs since the epoch / 60 s). */
export class RedSeries {
  private readonly cellMap = new Map<number, RedCell>();

  constructor(
    /** The capped name: the operation (or `other`), the service, or `from→to`. */
    readonly name: string,
    private readonly size: RedSize = new RedSize(),
  ) {
    size.series++;
  }

  get cells(): ReadonlyMap<number, RedCell> {
    return this.cellMap;
  }

  record(minute: number, isError: boolean, durationUs: number | undefined): void {
    let cell = this.cellMap.get(minute);
    if (cell === undefined) this.setCell(minute, (cell = { count: 0, errors: 0, hist: new DurationHistogram() }));
    cell.count++;
    if (isError) cell.errors++;
    if (durationUs !== undefined) cell.hist.record(durationUs);
  }

  /** Puts a whole cell (a loaded snapshot's). */
  setCell(minute: number, cell: RedCell): void {
    if (!this.cellMap.has(minute)) this.size.cells++;
    this.cellMap.set(minute, cell);
  }

  prune(oldestMinute: number): void {
    for (const m of this.cellMap.keys()) {
      if (m >= oldestMinute) continue;
      this.cellMap.delete(m);
      this.size.cells--;
    }
  }
}

/** Called once per counted span with the series' capped names, for the Prometheus histogram. */
export type SpanObserver = (service: string, operation: string, span: Span) => void;

export interface RedLimits {
  maxServices: number;
  maxOperations: number;
  maxEdges: number;
}

export const DEFAULT_RED_LIMITS: RedLimits = { maxServices: 1000, maxOperations: 200, maxEdges: 5000 };

export interface ServiceSeries {
  all: RedSeries;
  operations: Map<string, RedSeries>;
}

export class RedAggregator {
  readonly services = new Map<string, ServiceSeries>();
  readonly edges = new Map<string, RedSeries>();
  readonly size = new RedSize();
  private prunedAt = 0;

  constructor(
    private readonly clock: () => number,
    readonly limits: RedLimits = DEFAULT_RED_LIMITS,
    private readonly observer?: SpanObserver,
    /** False while RED's share of the memory budget is full: new names then count as `other`. */
    private readonly mayGrow: () => boolean = () => true,
  ) {}

  /** The onStored hook: counts every finished span (a start record counts when its end arrives). */
  observe(spans: readonly Span[]): void {
    const now = this.clock();
    const nowMinute = Math.floor((now * 1000) / MINUTE_US);
    // Every 10 minutes (cells live up to 24 h 10 min): a prune walks every cell.
    if (nowMinute >= this.prunedAt + PRUNE_EVERY_MINUTES) this.prune(nowMinute);
    const oldest = nowMinute - KEPT_MINUTES;
    for (const span of spans) {
      if (isStartRecord(span)) continue;
      const entry = this.serviceSeries(span.service);
      const operation = this.operationSeries(entry, span.name);
      this.observer?.(entry.all.name, operation.name, span);
      if (span.startUnknown === true) continue;
      const minute = Math.floor(span.startUs / MINUTE_US);
      if (minute < oldest) continue;
      const isError = span.status.code === 'error';
      const duration = span.durationUs;
      entry.all.record(minute, isError, duration);
      operation.record(minute, isError, duration);
    }
  }

  /** Counts one call on edge from → to (dependency-edge rules: ./red-edges.ts). */
  recordEdge(from: string, to: string, span: Span): void {
    if (span.startUnknown === true) return;
    const minute = Math.floor(span.startUs / MINUTE_US);
    let key = edgeKey(from, to);
    let series = this.edges.get(key);
    if (series === undefined) {
      if (this.edges.size >= this.limits.maxEdges || !this.mayGrow()) key = edgeKey(from, OTHER);
      series = this.edgeSeries(key);
    }
    series.record(minute, span.status.code === 'error', span.durationUs);
  }

  /** The series of a service (`operation` undefined), an operation, or an edge; undefined when never seen. */
  series(query: { service: string; operation?: string } | { from: string; to: string }): RedSeries | undefined {
    if ('from' in query) return this.edges.get(edgeKey(query.from, query.to));
    const entry = this.services.get(query.service);
    if (query.operation === undefined) return entry?.all;
    return entry?.operations.get(query.operation);
  }

  /** The series of an edge by its key, made when new (a loaded snapshot's edges, uncapped). */
  edgeSeries(key: string): RedSeries {
    let series = this.edges.get(key);
    if (series === undefined) this.edges.set(key, (series = new RedSeries(key, this.size)));
    return series;
  }

  /** The series of a service, `other`'s once maxServices are known (or while memory is short). */
  serviceSeries(service: string): ServiceSeries {
    let entry = this.services.get(service);
    if (entry !== undefined) return entry;
    const key = this.services.size >= this.limits.maxServices || !this.mayGrow() ? OTHER : service;
    entry = this.services.get(key);
    if (entry === undefined) this.services.set(key, (entry = { all: new RedSeries(key, this.size), operations: new Map() }));
    return entry;
  }

  /** The series of an operation, its service's `other` once maxOperations are known (or while memory is short). */
  operationSeries(entry: ServiceSeries, name: string): RedSeries {
    let series = entry.operations.get(name);
    if (series !== undefined) return series;
    const key = entry.operations.size >= this.limits.maxOperations || !this.mayGrow() ? OTHER : name;
    series = entry.operations.get(key);
    if (series === undefined) entry.operations.set(key, (series = new RedSeries(key, this.size)));
    return series;
  }

  private prune(nowMinute: number): void {
    this.prunedAt = nowMinute;
    const oldest = nowMinute - KEPT_MINUTES;
    for (const entry of this.services.values()) {
      entry.all.prune(oldest);
      for (const s of entry.operations.values()) s.prune(oldest);
    }
    for (const s of this.edges.values()) s.prune(oldest);
  }
}

export function edgeKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}
