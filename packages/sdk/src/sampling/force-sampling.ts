import type { Sampler, SamplingInput } from '../types.js';

export interface ForceSamplingOptions {
  /** Baggage entry that forces sampling when its value is `1` or `true` (any case). Default `linktrace.debug`. */
  baggageKey?: string;
}

export const DEFAULT_FORCE_BAGGAGE_KEY = 'linktrace.debug';

class ForceSampler implements Sampler {
  readonly onSampledSpanEnd?: () => void;

  constructor(
    private readonly delegate: Sampler,
    private readonly key: string,
  ) {
    if (typeof delegate.onSampledSpanEnd === 'function') this.onSampledSpanEnd = () => delegate.onSampledSpanEnd!();
  }

  shouldSample(input: SamplingInput): boolean {
    const parent = input.parent;
    if (parent !== undefined && parent.debug === true) return true;
    const baggage = input.baggage;
    if (baggage !== undefined) {
      const entry = baggage.get(this.key);
      if (entry !== undefined && isTrue(entry.value)) return true;
    }
    return this.delegate.shouldSample(input);
  }

  toString(): string {
    return `ForceSampling{key=${this.key}, ${String(this.delegate)}}`;
  }
}

/** `1` or `true` in any case, without allocating. */
function isTrue(v: string): boolean {
  if (v.length === 1) return v === '1';
  return (
    v.length === 4 &&
    (v.charCodeAt(0) | 0x20) === 0x74 &&
    (v.charCodeAt(1) | 0x20) === 0x72 &&
    (v.charCodeAt(2) | 0x20) === 0x75 &&
    (v.charCodeAt(3) | 0x20) === 0x65
  );
}

/**
 * Records the span when the parent context carries the debug flag (B3 `X-B3-Flags: 1`, b3 `d`) or
 * the baggage has `baggageKey` set to 1/true; otherwise asks `delegate`.
 */
export function forceSampling(delegate: Sampler, options: ForceSamplingOptions = {}): Sampler {
  if (typeof delegate !== 'object' || delegate === null || typeof delegate.shouldSample !== 'function') {
    throw new TypeError('forceSampling: delegate must be a Sampler');
  }
  const key = options.baggageKey ?? DEFAULT_FORCE_BAGGAGE_KEY;
  if (typeof key !== 'string' || key === '') throw new TypeError('forceSampling: baggageKey must be a non-empty string');
  return new ForceSampler(delegate, key);
}
