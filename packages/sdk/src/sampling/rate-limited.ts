import type { Sampler } from '../types.js';

export interface RateLimitedOptions {
  /** Traces (root decisions) allowed per second on average; 0 keeps none. */
  tracesPerSecond: number;
  /** Most decisions allowed back to back after a quiet spell. Default: max(1, tracesPerSecond). */
  burst?: number;
  /** Milliseconds clock; default `Date.now` (ms resolution is plenty for a per-second budget). */
  now?: () => number;
}

class RateLimitedSampler implements Sampler {
  private readonly perMs: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.perMs = perSecond / 1000;
    // Starts full, so the first traces after start-up are kept; a zero rate keeps none at all.
    this.tokens = perSecond > 0 ? burst : 0;
    this.last = now();
  }

  shouldSample(): boolean {
    const t = this.now();
    const elapsed = t - this.last;
    if (elapsed > 0) {
      const tokens = this.tokens + elapsed * this.perMs;
      this.tokens = tokens < this.burst ? tokens : this.burst;
      this.last = t;
    } else if (elapsed < 0 || elapsed !== elapsed) {
      // The clock went back (or is broken): restart the refill from here rather than stall.
      this.last = t;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  toString(): string {
    return `RateLimited{${this.perSecond}/s, burst=${this.burst}}`;
  }
}

/**
 * A token bucket: keeps at most `tracesPerSecond` decisions per second on average, `burst` at once.
 * It does not read the trace id, so dropped roots cost no id. Meant as the root of
 * `parentBasedSampler`: on its own it would limit every span, cutting traces apart.
 * Throws RangeError for a negative or non-finite rate or a burst below 1.
 */
export function rateLimitedSampler(options: RateLimitedOptions): Sampler {
  const rate = options?.tracesPerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
    throw new RangeError(`rateLimitedSampler: tracesPerSecond must be a finite number >= 0, got ${String(rate)}`);
  }
  const burst = options.burst ?? Math.max(1, rate);
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) {
    throw new RangeError(`rateLimitedSampler: burst must be a finite number >= 1, got ${String(burst)}`);
  }
  return new RateLimitedSampler(rate, burst, options.now ?? Date.now);
}
