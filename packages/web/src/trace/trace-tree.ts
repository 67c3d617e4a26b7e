/**
 * A trace view as a tree of rows: spans under their parents, a placeholder row for each parent that
 * children name but no span holds, and one for each rpcid position that other positions imply but
 * no span holds (a lost hop, DESIGN §2), put among its siblings in position order.
 */
import type { TraceView } from '../api/types.js';

export type NodeKind = 'span' | 'missing-parent' | 'missing-position';

export interface TreeNode {
  /** Stable across renders: `s<index>`, `p<spanId>`, `r<rpcid>`. */
  key: string;
  kind: NodeKind;
  /** Index into `view.spans` (span rows). */
  span: number;
  /** The rpcid of the row: the span's, or the lost position's. */
  rpcid?: string;
  /** The missing parent's span id. */
  missingSpanId?: string;
  children: TreeNode[];
  parent?: TreeNode;
  /** Corrected start, µs; placeholders take their earliest child's. */
  startUs: number;
}

export interface TraceTree {
  roots: TreeNode[];
  bySpan: TreeNode[];
  /** µs to add to each span's start (clock skew), by span index. */
  skew: Map<number, number>;
  startUs: number;
  endUs: number;
  /** Lost positions that got a row (capped). */
  missingPositions: number;
  /** Keys of the lost positions' rows. */
  lostKeys: Set<string>;
}

/** More lost positions than this are counted in the header but get no row each. */
export const MAX_POSITION_ROWS = 2000;

/** Compares dotted rpcids numerically, segment by segment (`0.2` < `0.10`). */
export function compareRpcid(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return x.length - y.length;
}

export function buildTraceTree(view: TraceView): TraceTree {
  const skew = new Map<number, number>();
  for (const m of view.clockSkew) skew.set(m.span, (skew.get(m.span) ?? 0) + m.deltaUs);
  const start = (i: number): number => (view.spans[i]?.startUs ?? 0) + (skew.get(i) ?? 0);

  let startUs = Infinity;
  let endUs = -Infinity;
  const bySpan: TreeNode[] = view.spans.map((s, i) => {
    const st = start(i);
    startUs = Math.min(startUs, st);
    endUs = Math.max(endUs, st + (s.durationUs ?? 0));
    return { key: `s${i}`, kind: 'span', span: i, rpcid: s.rpcid, children: [], startUs: st };
  });
  if (!Number.isFinite(startUs)) {
    startUs = view.startUs;
    endUs = view.startUs + view.durationUs;
  }

  const roots: TreeNode[] = [];
  const adopted = new Set<number>();
  for (const mp of view.missingParents) {
    const ph: TreeNode = { key: `p${mp.spanId}`, kind: 'missing-parent', span: -1, missingSpanId: mp.spanId, children: [], startUs: Infinity };
    for (const c of mp.children) {
      const child = bySpan[c];
      if (child === undefined) continue;
      adopted.add(c);
      child.parent = ph;
      ph.children.push(child);
      ph.startUs = Math.min(ph.startUs, child.startUs);
    }
    if (ph.children.length > 0) roots.push(ph);
  }
  view.parents.forEach((p, i) => {
    const node = bySpan[i]!;
    const parent = p >= 0 ? bySpan[p] : undefined;
    if (parent !== undefined) {
      node.parent = parent;
      parent.children.push(node);
    } else if (!adopted.has(i)) roots.push(node);
  });
  const byStart = (a: TreeNode, b: TreeNode): number => a.startUs - b.startUs || compareRpcid(a.rpcid ?? '', b.rpcid ?? '');
  for (const n of bySpan) if (n.children.length > 1) n.children.sort(byStart);

  // The span that handles calls made at a position is the later one there (the server half of a call).
  const atPosition = new Map<string, TreeNode>();
  for (const n of bySpan) {
    if (n.rpcid === undefined) continue;
    const had = atPosition.get(n.rpcid);
    if (had === undefined || n.startUs >= had.startUs) atPosition.set(n.rpcid, n);
  }
  const lost = view.positions.missing.slice(0, MAX_POSITION_ROWS).sort(compareRpcid);
  const lostKeys = new Set<string>();
  for (const rpcid of lost) {
    lostKeys.add(`r${rpcid}`);
    const dot = rpcid.lastIndexOf('.');
    const host = dot < 0 ? undefined : atPosition.get(rpcid.slice(0, dot));
    const ph: TreeNode = { key: `r${rpcid}`, kind: 'missing-position', span: -1, rpcid, children: [], startUs: host?.startUs ?? startUs, parent: host };
    atPosition.set(rpcid, ph);
    const list = host?.children ?? roots;
    const at = list.findIndex((c) => c.rpcid !== undefined && compareRpcid(c.rpcid, rpcid) > 0);
    if (at < 0) list.push(ph);
    else list.splice(at, 0, ph);
  }
  roots.sort(byStart);
  return { roots, bySpan, skew, startUs, endUs, missingPositions: lost.length, lostKeys };
}

export interface Row {
  node: TreeNode;
  depth: number;
}

/** Rows in display order, children of collapsed rows left out. */
export function visibleRows(roots: readonly TreeNode[], collapsed: ReadonlySet<string>): Row[] {
  const rows: Row[] = [];
  const stack: Row[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ node: roots[i]!, depth: 0 });
  while (stack.length > 0) {
    const row = stack.pop()!;
    rows.push(row);
    if (collapsed.has(row.node.key)) continue;
    const ch = row.node.children;
    for (let i = ch.length - 1; i >= 0; i--) stack.push({ node: ch[i]!, depth: row.depth + 1 });
  }
  return rows;
}

/**
 * The critical path when the server sent none: from the longest root down, each step the child that
 * finished last (the one the parent was waiting for).
 */
export function fallbackCriticalPath(view: TraceView, tree: TraceTree): Set<string> {
  const path = new Set<string>();
  const end = (n: TreeNode): number => n.startUs + (view.spans[n.span]?.durationUs ?? 0);
  let best: TreeNode | undefined;
  for (const r of tree.roots) if (r.kind === 'span' && (best === undefined || end(r) - r.startUs > end(best) - best.startUs)) best = r;
  for (let n = best; n !== undefined; ) {
    path.add(view.spans[n.span]!.spanId);
    let next: TreeNode | undefined;
    for (const c of n.children) if (c.kind === 'span' && (next === undefined || end(c) > end(next))) next = c;
    n = next;
  }
  return path;
}
