/**
 * Per-host clock offsets from the logs alone. For a call seen on both sides (caller's `out`,
 * callee's `in`), the NTP estimate d = ((in.start − out.start) − (out.end − in.end)) / 2 is the
 * callee's clock minus the caller's, off only by half the difference of the two one-way network
 * delays. Candidate pairs are many and mostly wrong, the true ones agree: each host pair keeps a
 * histogram of d and takes its densest spot; the pairs are then solved together (weighted least
 * squares) for one offset per host, so that a host pair that rarely talks still gets an estimate
 * through the others.
 */

import { DOUBLE_ZERO } from './gaussian-stats.js';

/** Histogram bin width, µs. */
const BIN_US = 50;

interface PairHistogram {
  /** bin → [weight, Σ weight·d] */
  bins: Map<number, [number, number]>;
  total: number;
}

export interface PairEstimate {
  from: string;
  to: string;
  /** µs: clock(to) − clock(from). */
  offsetUs: number;
  weight: number;
}

export class ClockOffsets {
  private readonly pairs = new Map<string, PairHistogram>();
  private offsets = new Map<string, number>();
  private hosts = new Set<string>();

  /** One candidate observation of clock(to) − clock(from), weighted by how likely it is to be the true pair. */
  observe(from: string, to: string, dUs: number, weight: number): void {
    if (from === to) return;
    const key = from < to ? `${from}\u0000${to}` : `${to}\u0000${from}`;
    const d = from < to ? dUs : -dUs;
    let h = this.pairs.get(key);
    if (h === undefined) this.pairs.set(key, (h = { bins: new Map(), total: DOUBLE_ZERO }));
    const bin = Math.round(d / BIN_US);
    const cell = h.bins.get(bin);
    if (cell === undefined) h.bins.set(bin, [weight, weight * d]);
    else {
      cell[0] += weight;
      cell[1] += weight * d;
    }
    h.total += weight;
  }

  /** The densest spot of each pair's histogram (three bins wide), when it stands out. */
  pairEstimates(): PairEstimate[] {
    const out: PairEstimate[] = [];
    for (const [key, h] of this.pairs) {
      let best = -1;
      let bestBin = 0;
      for (const [bin, cell] of h.bins) {
        const w = cell[0] + (h.bins.get(bin - 1)?.[0] ?? 0) + (h.bins.get(bin + 1)?.[0] ?? 0);
        if (w > best || (w === best && bin < bestBin)) {
          best = w;
          bestBin = bin;
        }
      }
      // A peak made of one stray candidate is no estimate.
      if (best < 1.5) continue;
      let w = 0;
      let sum = 0;
      for (let b = bestBin - 1; b <= bestBin + 1; b++) {
        const cell = h.bins.get(b);
        if (cell === undefined) continue;
        w += cell[0];
        sum += cell[1];
      }
      const [from, to] = key.split('\u0000') as [string, string];
      out.push({ from, to, offsetUs: sum / w, weight: best });
    }
    return out;
  }

  /** Re-solves the per-host offsets from every pair seen so far; each connected group of hosts has mean offset 0. */
  solve(): void {
    const est = this.pairEstimates();
    const adj = new Map<string, { other: string; d: number; w: number }[]>();
    const link = (a: string, b: string, d: number, w: number): void => {
      let list = adj.get(a);
      if (list === undefined) adj.set(a, (list = []));
      list.push({ other: b, d, w });
    };
    for (const e of est) {
      // off(to) − off(from) = d
      link(e.to, e.from, e.offsetUs, e.weight);
      link(e.from, e.to, -e.offsetUs, e.weight);
    }
    const off = new Map<string, number>();
    for (const h of adj.keys()) off.set(h, this.offsets.get(h) ?? 0);
    // Gauss–Seidel on the normal equations; the pair graph is small (hosts, not records).
    for (let iter = 0; iter < 60; iter++) {
      let moved = 0;
      for (const [h, list] of adj) {
        let w = 0;
        let sum = 0;
        for (const n of list) {
          w += n.w;
          sum += n.w * (off.get(n.other)! + n.d);
        }
        const next = sum / w;
        moved = Math.max(moved, Math.abs(next - off.get(h)!));
        off.set(h, next);
      }
      if (moved < 1) break;
    }
    // Centre each connected group (only differences are observable).
    const seen = new Set<string>();
    for (const start of adj.keys()) {
      if (seen.has(start)) continue;
      const group: string[] = [];
      const stack = [start];
      seen.add(start);
      while (stack.length > 0) {
        const h = stack.pop()!;
        group.push(h);
        for (const n of adj.get(h)!) if (!seen.has(n.other)) {
          seen.add(n.other);
          stack.push(n.other);
        }
      }
      const mean = group.reduce((s, h) => s + off.get(h)!, 0) / group.length;
      for (const h of group) off.set(h, off.get(h)! - mean);
    }
    this.offsets = off;
    this.hosts = new Set(adj.keys());
  }

  /** Fades old evidence (each block of log), dropping bins that no longer matter: bounded memory over a long file. */
  fade(factor: number): void {
    for (const [key, h] of this.pairs) {
      h.total = 0;
      for (const [bin, cell] of h.bins) {
        cell[0] *= factor;
        cell[1] *= factor;
        if (cell[0] < 0.05) h.bins.delete(bin);
        else h.total += cell[0];
      }
      if (h.bins.size === 0) this.pairs.delete(key);
    }
  }

  /** µs to subtract from `host`'s timestamps to bring them onto the common clock (0 when unknown). */
  offset(host: string): number {
    return this.offsets.get(host) ?? 0;
  }

  /** Whether `host` is tied to the others by enough evidence. */
  known(host: string): boolean {
    return this.hosts.has(host);
  }

  /** The estimates, for the report. */
  all(): Map<string, number> {
    return new Map(this.offsets);
  }
}
