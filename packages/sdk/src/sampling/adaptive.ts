import type { Sampler, SamplingInput } from '../types.js';
import { ratioThreshold, traceIdHash } from './trace-id-hash.js';

export interface AdaptiveOptions {
  /** The budget: sampled spans ending per second that this process aims at. */
  spansPerSecond: number;
  /** Length of the counting window in ms. Default 1000. */
  windowMs?: number;
  /** Ratio used until the first window closes. Default 1. */
  initialRatio?: number;
  /** The ratio never goes below this; must be > 0. Default 1e-6. */
  minRatio?: number;
  /** Milliseconds clock; default `Date.now`. Tests inject a synthetic one. */
  now?: () => number;
}

/** An adaptive sampler also tells the ratio it currently applies (for metrics and tests). */
export interface AdaptiveSampler extends Sampler {
  readonly ratio: number;
  onSampledSpanEnd(): void;
}

/** A quiet window may at most double the ratio: one idle second must not open the gates fully. */
const MAX_GROWTH = 2;
/** 2^32 growth covers any ratio down to 1e-9: more windows than this need no finer count. */
const MAX_GROWTH_WINDOWS = 32;

class AdaptiveRatioSampler implements AdaptiveSampler {
  ratio: number;
  private threshold: number;
  private ended = 0;
  private windowStart: number;

  constructor(
    private readonly budget: number,
    private readonly windowMs: number,
    private readonly minRatio: number,
    private readonly now: () => number,
    initialRatio: number,
  ) {
    this.ratio = initialRatio;
    this.threshold = ratioThreshold(initialRatio);
    this.windowStart = now();
  }

  shouldSample(input: SamplingInput): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs || t < this.windowStart) this.closeWindow(t);
    const threshold = this.threshold;
    if (threshold === 4294967296) return true;
    return traceIdHash(input.traceId) < threshold;
  }

  onSampledSpanEnd(): void {
    this.ended++;
  }

  /**
   * Scales the ratio by budget / observed rate (by its square root when within a factor 2), so that
   * under a steady load the windows land on the budget. Growth is capped at x2 per window elapsed;
   * the floor is `minRatio`.
   */
  private closeWindow(t: number): void {
    const elapsed = t - this.windowStart;
    if (elapsed > 0) {
      const observed = (this.ended * 1000) / elapsed;
      // A window closed late (no decision for a while) counts as that many quiet windows.
      const windows = Math.min(elapsed / this.windowMs, MAX_GROWTH_WINDOWS);
      const cap = this.ratio * MAX_GROWTH ** (windows > 1 ? windows : 1);
      let next = cap;
      if (observed > 0) {
        const factor = this.budget / observed;
        // Far from the budget, jump to it; close to it, go half-way (in log terms): a window's count
        // is noisy, and a full step would carry that noise into the next window as well.
        next = this.ratio * (factor > 2 || factor < 0.5 ? factor : Math.sqrt(factor));
      }
      if (next > cap) next = cap;
      if (next > 1) next = 1;
      if (next < this.minRatio) next = this.minRatio;
      this.ratio = next;
      this.threshold = ratioThreshold(next);
    }
    this.windowStart = t;
    this.ended = 0;
  }

  toString(): string {
    return `Adaptive{${this.budget} spans/s, window=${this.windowMs}ms}`;
  }
}

/**
 * Keeps the number of sampled spans near a per-second budget. It counts `onSampledSpanEnd` calls
 * per window and rescales its ratio at the end of each window; decisions are made from the trace-id
 * hash at the current ratio (as `traceIdRatioSampler`), so a trace gets one answer within a window.
 * Use it as the root of `parentBasedSampler` so that the spans of kept traces are all kept (and
 * all counted). Throws RangeError for a budget or window that is not a positive finite number, or
 * ratios out of range.
 */
export function adaptiveSampler(options: AdaptiveOptions): AdaptiveSampler {
  const budget = options?.spansPerSecond;
  if (typeof budget !== 'number' || !Number.isFinite(budget) || budget <= 0) {
    throw new RangeError(`adaptiveSampler: spansPerSecond must be a finite number > 0, got ${String(budget)}`);
  }
  const windowMs = options.windowMs ?? 1000;
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`adaptiveSampler: windowMs must be a finite number > 0, got ${String(windowMs)}`);
  }
  const minRatio = options.minRatio ?? 1e-6;
  const initialRatio = options.initialRatio ?? 1;
  // A ratio of 0 could never grow back (growth is multiplicative), hence minRatio > 0.
  if (typeof minRatio !== 'number' || !(minRatio > 0 && minRatio <= 1)) {
    throw new RangeError(`adaptiveSampler: minRatio must be a number in (0, 1], got ${String(minRatio)}`);
  }
  if (typeof initialRatio !== 'number' || !(initialRatio >= 0 && initialRatio <= 1)) {
    throw new RangeError(`adaptiveSampler: initialRatio must be a number in 0..1, got ${String(initialRatio)}`);
  }
  return new AdaptiveRatioSampler(budget, windowMs, minRatio, options.now ?? Date.now, Math.max(initialRatio, minRatio));
}
