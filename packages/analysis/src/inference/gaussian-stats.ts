/**
 * A running mean and variance whose memory fades (an exponentially weighted Welford): the gap and
 * duration models of inference, learned from its own confident matches, follow a slow drift in a
 * long log without being held back by its beginning.
 */
export class GaussianStats {
  private w = DOUBLE_ZERO;
  private m = DOUBLE_ZERO;
  private s = DOUBLE_ZERO;

  /** `maxWeight`: how many recent observations dominate (older ones fade). */
  constructor(private readonly maxWeight = 2000) {}

  add(x: number): void {
    if (this.w >= this.maxWeight) {
      const keep = (this.maxWeight - 1) / this.maxWeight;
      this.w *= keep;
      this.s *= keep;
    }
    this.w += 1;
    const d = x - this.m;
    this.m += d / this.w;
    this.s += d * (x - this.m);
  }

  get weight(): number {
    return this.w;
  }

  get mean(): number {
    return this.m;
  }

  /** Standard deviation, never below `floor`. */
  sd(floor: number): number {
    return this.w < 2 ? floor : Math.max(floor, Math.sqrt(this.s / (this.w - 1)));
  }
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * 0 written as −0 (equal to 0 in every use), for number fields that will hold fractions: V8 keeps
 * a field that starts as a small integer in integer form, and the first fraction stored changes
 * the class's layout and throws away the optimised code that used it (recompiled later: costly
 * for the large search functions). A field that starts as −0 is a double from the start.
 */
export const DOUBLE_ZERO = -0;

/** log N(x; mean, sd). */
export function logNormalDensity(x: number, mean: number, sd: number): number {
  const z = (x - mean) / sd;
  return -0.5 * z * z - Math.log(sd) - HALF_LOG_2PI;
}

/**
 * log of (1 − ε)·N(x; mean, sd) + ε·N(x; broadMean, broadSd): a learned Gaussian whose tails are
 * never thinner than a broad one, so one rare gap cannot outweigh everything else a match has going for it.
 */
export function robustLogDensity(x: number, mean: number, sd: number, broadMean: number, broadSd: number, epsilon = 0.02): number {
  const a = (epsilon === 0.02 ? LOG_098 : Math.log(1 - epsilon)) + logNormalDensity(x, mean, sd);
  const b = (epsilon === 0.02 ? LOG_002 : Math.log(epsilon)) + logNormalDensity(x, broadMean, broadSd);
  // exp(0) is exactly 1: the larger term's exponential is not computed.
  return a >= b ? a + Math.log(1 + Math.exp(b - a)) : b + Math.log(Math.exp(a - b) + 1);
}

/** The default mixture weights' logarithms, computed once (the same doubles as computed per call). */
const LOG_098 = Math.log(1 - 0.02);
const LOG_002 = Math.log(0.02);
