/**
 * Minimum-cost assignment of rows to distinct columns (the Hungarian method with potentials,
 * O(rows² · cols)). Inference uses it per connected group of ambiguous records, so that two
 * requests competing for the same calls are decided together instead of first come, first served.
 */

/** Large but finite, so that potentials stay finite: a pair that must not be chosen. */
export const FORBIDDEN = 1e9;

/**
 * `cost[r * cols + c]`; requires rows ≤ cols. Returns, per row, its column.
 */
export function minCostAssignment(cost: Float64Array, rows: number, cols: number): Int32Array {
  if (rows > cols) throw new RangeError(`minCostAssignment: ${rows} rows > ${cols} columns`);
  // 1-based arrays as in the classical formulation; column 0 is the virtual start.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      const base = (i0 - 1) * cols;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[base + j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]!] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Int32Array(rows);
  for (let j = 1; j <= cols; j++) if (p[j]! > 0) out[p[j]! - 1] = j - 1;
  return out;
}

export function assignmentCost(cost: Float64Array, cols: number, assignment: Int32Array): number {
  let total = 0;
  for (let r = 0; r < assignment.length; r++) total += cost[r * cols + assignment[r]!]!;
  return total;
}
