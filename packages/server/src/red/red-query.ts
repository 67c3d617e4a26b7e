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
