/**
 * The critical path of a trace: the chain of spans that decides its end-to-end duration. From the
 * root, the walk goes down into the child whose work (its own and everything below it) ends last,
 * until a span has no children. Work below a span counts even when it ends after the span itself:
 * a producer returns at once, but its consumer (attached by parent id, or by a link when it has no
 * parent) is what keeps the chain going, so the path follows it.
 *
 * A start record without its end record ends, for this purpose, where the last work below it ends
 * (or at its start): it was still running, so it cannot be what finished first. Parents are
 * resolved like the chain checks do (trace-graph.ts). Pure; never throws on malformed input.
 */
import type { Span } from '@linktrace/model';
import { buildTraceGraph, type TraceGraph } from './trace-graph.js';

/** Span ids from the root down to the span that finished the trace; `[]` for no spans. */
export function criticalPath(spans: readonly Span[]): string[] {
  const graph = buildTraceGraph(Array.isArray(spans) ? spans : []);
  return criticalPathNodes(graph).map((v) => graph.spans[v]!.spanId);
}

/** The same path as node indexes of `graph` (a fan-out's halves share a span id, not a node). */
export function criticalPathNodes(graph: TraceGraph): number[] {
  const n = graph.spans.length;
  if (n === 0) return [];
  const { parent, order, childStart, childList } = graph;

  // Latest end of each node's subtree, children before parents (reverse of the parents-first order).
  const reach = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const v = order[k]!;
    const s = graph.spans[v]!;
    const start = Number.isFinite(s.startUs) ? s.startUs : 0;
    let end = typeof s.durationUs === 'number' && Number.isFinite(s.durationUs) ? start + s.durationUs : start;
    for (let c = childStart[v]!; c < childStart[v + 1]!; c++) end = Math.max(end, reach[childList[c]!]!);
    reach[v] = end;
  }

  const root = pickRoot(graph.spans, parent, reach);
  const path: number[] = [];
  for (let v = root; v >= 0; ) {
    path.push(v);
    let next = -1;
    for (let c = childStart[v]!; c < childStart[v + 1]!; c++) {
      const child = childList[c]!;
      if (next < 0 || later(graph.spans, reach, child, next)) next = child;
    }
    v = next;
  }
  return path;
}

/** Ends later; on a tie the one that started later (it ran last, the earlier one waited less). */
function later(spans: readonly Span[], reach: Float64Array, a: number, b: number): boolean {
  if (reach[a]! !== reach[b]!) return reach[a]! > reach[b]!;
  return spans[a]!.startUs > spans[b]!.startUs;
}

/**
 * The trace's root: the earliest span that names no parent; when every root lost its parent (the
 * real root was never reported), the earliest of those. Ties go to the one reaching furthest.
 */
function pickRoot(spans: readonly Span[], parent: Int32Array, reach: Float64Array): number {
  let best = -1;
  let bestTrue = false;
  for (let i = 0; i < spans.length; i++) {
    if (parent[i] !== -1) continue;
    const isTrue = typeof spans[i]!.parentSpanId !== 'string';
    if (best >= 0) {
      if (bestTrue && !isTrue) continue;
      if (isTrue === bestTrue) {
        const a = spans[i]!.startUs;
        const b = spans[best]!.startUs;
        if (a > b || (a === b && reach[i]! <= reach[best]!)) continue;
      }
    }
    best = i;
    bestTrue = isTrue;
  }
  return best;
}
