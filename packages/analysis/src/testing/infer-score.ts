/**
 * How good inferred links are against a generator's ground truth: link precision, recall and F1
 * (a link is an `in` record with a non-null parent), the share of whole traces inferred exactly,
 * and the expected calibration error of the confidences.
 */

export interface LinkScore {
  precision: number;
  recall: number;
  f1: number;
  /** Traces whose every record has its true parent, and which took no record of another trace. */
  exactTraces: number;
  /** Expected calibration error over 10 equal-width confidence bins (NaN without confidences). */
  ece: number;
  records: number;
}

/**
 * `truth[line]`: true parent (null root; undefined for lines that are not `in` records);
 * `parent[line]` / `confidence[line]`: the inferred answer for the same lines.
 */
export function scoreLinks(truth: readonly (number | null | undefined)[], parent: readonly (number | null | undefined)[], confidence?: readonly (number | undefined)[]): LinkScore {
  let tp = 0;
  let predicted = 0;
  let actual = 0;
  let records = 0;
  // The true trace (root line) of every in record.
  const traceOf = new Map<number, number>();
  const rootOf = (line: number): number => {
    let at = line;
    for (let guard = 0; guard < 1000; guard++) {
      const up = truth[at];
      if (up === null || up === undefined) return at;
      at = up;
    }
    return at;
  };
  const bad = new Set<number>();
  const roots = new Set<number>();
  const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
  for (let line = 0; line < truth.length; line++) {
    const t = truth[line];
    if (t === undefined) continue;
    records++;
    const root = rootOf(line);
    traceOf.set(line, root);
    roots.add(root);
    const p = parent[line] ?? null;
    if (t !== null) actual++;
    if (p !== null) predicted++;
    const right = p === t;
    if (right && p !== null) tp++;
    if (!right) {
      bad.add(root);
      if (p !== null) bad.add(rootOf(p));
    }
    const c = confidence?.[line];
    if (c !== undefined) {
      const b = bins[Math.min(9, Math.floor(c * 10))]!;
      b.n++;
      b.conf += c;
      b.right += right ? 1 : 0;
    }
  }
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = actual === 0 ? 1 : tp / actual;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  let n = 0;
  let gap = 0;
  for (const b of bins) {
    n += b.n;
    gap += Math.abs(b.conf - b.right);
  }
  return { precision, recall, f1, exactTraces: roots.size === 0 ? 1 : (roots.size - [...bad].filter((r) => roots.has(r)).length) / roots.size, ece: n === 0 ? Number.NaN : gap / n, records };
}
