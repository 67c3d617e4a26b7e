/**
 * The dependency graph of inferred links: per caller → callee service, how many calls, how many
 * failed (status ≥ 500), and latency percentiles of the callee's side. Calls whose callee never
 * logs are edges to its name (`peer`) or address. Durations are kept in log-spaced buckets (2 %
 * wide), so memory is per edge, not per call.
 */

const BUCKETS_PER_DOUBLING = 35;

export interface InferredEdge {
  from: string;
  to: string;
  calls: number;
  errors: number;
  /** Whether the callee never logged (the edge comes from the caller's `out` records alone). */
  silentCallee: boolean;
  p50Us: number;
  p99Us: number;
  /** Mean confidence of the links behind the edge. */
  confidence: number;
}

interface Tally {
  calls: number;
  errors: number;
  confidence: number;
  silent: boolean;
  buckets: Map<number, number>;
}

export class InferredGraph {
  private readonly edges = new Map<string, Map<string, Tally>>();

  add(from: string, to: string, durationUs: number, error: boolean, confidence: number, silentCallee: boolean): void {
    let byTo = this.edges.get(from);
    if (byTo === undefined) this.edges.set(from, (byTo = new Map()));
    let t = byTo.get(to);
    if (t === undefined) byTo.set(to, (t = { calls: 0, errors: 0, confidence: 0, silent: silentCallee, buckets: new Map() }));
    t.calls++;
    if (error) t.errors++;
    t.confidence += confidence;
    const b = durationUs <= 1 ? 0 : Math.ceil(Math.log2(durationUs) * BUCKETS_PER_DOUBLING);
    t.buckets.set(b, (t.buckets.get(b) ?? 0) + 1);
  }

  /** Edges sorted by caller, then callee. */
  rows(): InferredEdge[] {
    const out: InferredEdge[] = [];
    for (const [from, byTo] of this.edges) {
      for (const [to, t] of byTo) {
        const sorted = [...t.buckets].sort((a, b) => a[0] - b[0]);
        const at = (q: number): number => {
          const rank = Math.max(1, Math.ceil(q * t.calls));
          let seen = 0;
          for (const [b, n] of sorted) {
            seen += n;
            if (seen >= rank) return b === 0 ? 0 : Math.round(2 ** (b / BUCKETS_PER_DOUBLING));
          }
          return 0;
        };
        out.push({ from, to, calls: t.calls, errors: t.errors, silentCallee: t.silent, p50Us: at(0.5), p99Us: at(0.99), confidence: t.confidence / t.calls });
      }
    }
    return out.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  }
}
