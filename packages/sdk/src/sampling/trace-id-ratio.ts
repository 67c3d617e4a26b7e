import type { Sampler, SamplingInput } from '../types.js';
import { ratioThreshold, traceIdHash } from './trace-id-hash.js';

class TraceIdRatioSampler implements Sampler {
  private readonly threshold: number;

  constructor(private readonly ratio: number) {
    this.threshold = ratioThreshold(ratio);
  }

  shouldSample(input: SamplingInput): boolean {
    // Ratio 0 and 1 decide without reading the trace id (a new root's id is made lazily).
    const threshold = this.threshold;
    if (threshold === 0) return false;
    if (threshold === 4294967296) return true;
    return traceIdHash(input.traceId) < threshold;
  }

  toString(): string {
    return `TraceIdRatio{${this.ratio}}`;
  }
}

/**
 * Keeps a fraction `ratio` (0..1) of traces, decided from a hash of the whole trace id (see
 * trace-id-hash.ts), so every service with the same ratio makes the same decision for a trace.
 * Ignores the parent: wrap it in `parentBasedSampler` to follow upstream decisions.
 * Throws RangeError when ratio is not a number in 0..1.
 */
export function traceIdRatioSampler(ratio: number): Sampler {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw new RangeError(`traceIdRatioSampler: ratio must be a number in 0..1, got ${String(ratio)}`);
  }
  return new TraceIdRatioSampler(ratio);
}
