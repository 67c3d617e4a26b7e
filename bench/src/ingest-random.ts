/**
 * A small seeded random source for the ingest benchmark's data: the same seed makes the same traces
 * (shapes, names, values), so two runs of the benchmark ingest comparable data. Span ids are the
 * exception: they come from the model's generator, as they would from a real SDK.
 */

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * Integer in [1, n], heavily skewed to small values (a few big shops, many small ones): the
   * cube of a uniform number puts about half the draws in the lowest eighth of the range.
   */
  skewed(n: number): number {
    const u = this.next();
    return 1 + Math.floor(u * u * u * n);
  }

  /** Log-normal around `medianMs` (σ = `spread`), in µs, at least 1. */
  latencyUs(medianMs: number, spread = 0.8): number {
    // Box–Muller; one of the pair is enough here.
    const u = 1 - this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    return Math.max(1, Math.round(medianMs * 1000 * Math.exp(spread * z)));
  }

  /** `n` hex digits. */
  hex(n: number): string {
    let out = '';
    while (out.length < n) out += Math.floor(this.next() * 0x10000).toString(16).padStart(4, '0');
    return out.slice(0, n);
  }
}
