/**
 * The waterfall's rows as the server assembled them (`view.rows`, analysis `assembleTrace`): this
 * module builds no tree, it only answers what the drawing needs — which rows a collapsed subtree
 * hides, a row's parent row, the row of a span, the timeline's bounds. A row's subtree is the rows
 * after it that are deeper.
 */
import type { TraceRow, TraceView } from '../api/types.js';

export interface Row {
  /** Stable for one view: `r<index into view.rows>`. */
  key: string;
  /** Index into `view.rows`. */
  index: number;
  row: TraceRow;
  depth: number;
  hasChildren: boolean;
}

export const rowKey = (index: number): string => `r${index}`;

/** Rows in display order, the subtrees of collapsed rows left out. */
export function visibleRows(rows: readonly TraceRow[], collapsed: ReadonlySet<string>): Row[] {
  const out: Row[] = [];
  let hideBelow = Infinity;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.depth > hideBelow) continue;
    hideBelow = Infinity;
    const key = rowKey(i);
    const hasChildren = (rows[i + 1]?.depth ?? -1) > row.depth;
    out.push({ key, index: i, row, depth: row.depth, hasChildren });
    if (hasChildren && collapsed.has(key)) hideBelow = row.depth;
  }
  return out;
}

/** Index of the row's parent row, -1 at the top level. */
export function parentRow(rows: readonly TraceRow[], index: number): number {
  const depth = rows[index]?.depth ?? 0;
  for (let i = index - 1; i >= 0; i--) if (rows[i]!.depth < depth) return i;
  return -1;
}

/** Keys of the rows above `index` (its parent, its parent's parent, …). */
export function ancestorKeys(rows: readonly TraceRow[], index: number): string[] {
  const keys: string[] = [];
  for (let p = parentRow(rows, index); p >= 0; p = parentRow(rows, p)) keys.push(rowKey(p));
  return keys;
}

/** The row of each span index (a folded call's two halves share one). */
export function rowOfSpan(view: TraceView): Map<number, number> {
  const m = new Map<number, number>();
  view.rows.forEach((r, i) => {
    if (r.kind !== 'span') return;
    m.set(r.span, i);
    if (r.partner !== undefined) m.set(r.partner, i);
  });
  return m;
}

/** µs to add to each span's recorded start (clock skew), by span index. */
export function skewBySpan(view: TraceView): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of view.clockSkew) m.set(s.span, (m.get(s.span) ?? 0) + s.deltaUs);
  return m;
}

/** The timeline: earliest shown start to latest shown end of the span rows. */
export function timeline(view: TraceView): { startUs: number; endUs: number } {
  let startUs = Infinity;
  let endUs = -Infinity;
  for (const r of view.rows) {
    if (r.kind !== 'span') continue;
    startUs = Math.min(startUs, r.startUs);
    endUs = Math.max(endUs, r.startUs + (r.durationUs ?? 0));
  }
  if (!Number.isFinite(startUs)) return { startUs: view.startUs, endUs: view.startUs + view.durationUs };
  return { startUs, endUs };
}
