/**
 * Layered layout of the service map: each node in the column of its longest path from a caller-less
 * node (cycles are cut by capping the ranks), rows ordered by the mean row of their callers so
 * edges cross less.
 */
import type { DisplayMap, ServiceMapNode } from '../api/types.js';

export interface PlacedNode extends ServiceMapNode {
  x: number;
  y: number;
}

export const NODE_W = 170;
export const NODE_H = 40;
const COL_GAP = NODE_W + 190;
const ROW_GAP = 90;
const MARGIN = 30;

export function layoutMap(map: DisplayMap): { nodes: PlacedNode[]; width: number; height: number } {
  const ids = map.nodes.map((n) => n.id);
  const rank = new Map(ids.map((id) => [id, 0]));
  const edges = map.edges.filter((e) => e.from !== e.to && rank.has(e.from) && rank.has(e.to));
  const cap = ids.length;
  for (let pass = 0; pass < cap; pass++) {
    let changed = false;
    for (const e of edges) {
      const r = Math.min(cap, rank.get(e.from)! + 1);
      if (r > rank.get(e.to)!) {
        rank.set(e.to, r);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns: string[][] = [];
  for (const id of ids) (columns[rank.get(id)!] ??= []).push(id);
  const dense = columns.filter((c) => c !== undefined);
  const row = new Map<string, number>();
  dense.forEach((col, ci) => {
    if (ci > 0) {
      const mean = (id: string): number => {
        const from = edges.filter((e) => e.to === id).map((e) => row.get(e.from)).filter((r): r is number => r !== undefined);
        return from.length === 0 ? Infinity : from.reduce((a, b) => a + b, 0) / from.length;
      };
      col.sort((a, b) => mean(a) - mean(b) || a.localeCompare(b));
    } else col.sort();
    col.forEach((id, ri) => row.set(id, ri));
  });
  const tallest = Math.max(1, ...dense.map((c) => c.length));
  const byId = new Map(map.nodes.map((n) => [n.id, n]));
  const nodes: PlacedNode[] = [];
  dense.forEach((col, ci) => {
    const offset = ((tallest - col.length) * ROW_GAP) / 2;
    col.forEach((id, ri) => nodes.push({ ...byId.get(id)!, x: MARGIN + ci * COL_GAP, y: MARGIN + offset + ri * ROW_GAP }));
  });
  return { nodes, width: MARGIN * 2 + (dense.length - 1) * COL_GAP + NODE_W, height: MARGIN * 2 + (tallest - 1) * ROW_GAP + NODE_H };
}
