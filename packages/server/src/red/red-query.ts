/**
 * Answers a RED query from a series' minute cells: one point per step, merging the cells whose
 * minute starts in [t, t + step).
 */
import { DurationHistogram } from './duration-histogram.js';
import { MINUTE_US, type RedSeries } from './red-aggregator.js';

export interface RedPoint {
  /** Start of the step, µs since the epoch. */
  t: number;
  /** Spans per second over the step. */
  rate: number;
  errors: number;
  /** errors / spans; 0 for a step without spans. */
  errorRate: number;
  /** Duration quantiles in µs (within ±5%); null when no span of the step reported its duration. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const round = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v));

/** `startUs` is rounded down to a minute; `stepUs` is a whole number of minutes. */
export function redPoints(series: RedSeries | undefined, startUs: number, endUs: number, stepUs: number): RedPoint[] {
  const first = Math.floor(startUs / MINUTE_US);
  const stepMinutes = stepUs / MINUTE_US;
  const points: RedPoint[] = [];
  for (let m = first; m * MINUTE_US <= endUs; m += stepMinutes) {
    let count = 0;
    let errors = 0;
    const hist = new DurationHistogram();
    if (series !== undefined) {
      for (let k = m; k < m + stepMinutes; k++) {
        const cell = series.cells.get(k);
        if (cell === undefined) continue;
        count += cell.count;
        errors += cell.errors;
        hist.merge(cell.hist);
      }
    }
    points.push({
      t: m * MINUTE_US,
      rate: count / (stepUs / 1e6),
      errors,
      errorRate: count === 0 ? 0 : errors / count,
      p50: round(hist.quantile(0.5)),
      p95: round(hist.quantile(0.95)),
      p99: round(hist.quantile(0.99)),
    });
  }
  return points;
}

/** One operation's totals over a range (`GET /api/v1/metrics/red/operations`). */
export interface RedOperationSummary {
  operation: string;
  /** Spans that started in the range. */
  count: number;
  /** Spans per second over the range. */
  rate: number;
  errors: number;
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The totals of every operation series of a service over the minutes [startUs, endUs], slowest p99 first. */
export function redOperations(operations: ReadonlyMap<string, RedSeries>, startUs: number, endUs: number): RedOperationSummary[] {
  const first = Math.floor(startUs / MINUTE_US);
  const last = Math.floor(endUs / MINUTE_US);
  const seconds = ((last - first + 1) * MINUTE_US) / 1e6;
  const out: RedOperationSummary[] = [];
  for (const [name, series] of operations) {
    let count = 0;
    let errors = 0;
    const hist = new DurationHistogram();
    // The smaller of the two walks: a series' cells (at most a day of minutes) or the range's minutes.
    if (series.cells.size < last - first + 1) {
      for (const [m, cell] of series.cells) {
        if (m < first || m > last) continue;
        count += cell.count;
        errors += cell.errors;
        hist.merge(cell.hist);
      }
    } else {
      for (let m = first; m <= last; m++) {
        const cell = series.cells.get(m);
        if (cell === undefined) continue;
        count += cell.count;
        errors += cell.errors;
        hist.merge(cell.hist);
      }
    }
    if (count === 0) continue;
    out.push({ operation: name, count, rate: count / seconds, errors, errorRate: errors / count, p50: round(hist.quantile(0.5)), p95: round(hist.quantile(0.95)), p99: round(hist.quantile(0.99)) });
  }
  return out.sort((a, b) => (b.p99 ?? -1) - (a.p99 ?? -1) || b.count - a.count || (a.operation < b.operation ? -1 : 1));
}
