/**
 * One trace assembled for display (DESIGN §7: the one place a trace's tree, positions, gaps and skew
 * are worked out). The query API sends the result; the CLI and the UI draw its rows as they are.
 *
 * - Parents are the trace graph's (trace-graph.ts, the chain checks' rules): by parent id, by link,
 *   by rpcid; cycles cut deterministically, so every span is in exactly one row.
 * - A Zipkin call's client half and one server half sharing its id fold into one row with both
 *   halves' timings; so do an OpenTelemetry client span and the server span below it (ids of their
 *   own). In a fan-out (several callees each recording a server span with that id) the
 *   earliest server half folds; the others are rows of their own under the folded row.
 * - A lost hop is one placeholder row: a parent id that spans name but no span holds, and the rpcid
 *   position it had when its children agree on one, are the same hop. A position with recorded
 *   descendants but no span is a placeholder too; skipped sibling numbers are one row per contiguous
 *   range, at most `MAX_GAP_ROWS` per trace, the rest counted in one closing row.
 * - Shown times are corrected for clock skew (marked), the critical path is flagged.
 * Pure; never throws on malformed spans.
 */
import { compareRpcid } from '@linktrace/model';
import type { Span } from '@linktrace/model';
import { criticalPathNodes } from '../critical-path.js';
import { buildTraceGraph, isAnsweringHalf, rpcidOf } from '../trace-graph.js';
import { adjustClockSkew, type SkewAdjustment } from './clock-skew.js';
import { findPositionGaps } from './position-gaps.js';
import type { GapRow, LostHopRow, MoreGapsRow, SpanRow, TraceGapSummary, TraceRow } from './trace-rows.js';

/** Sibling-gap rows per trace; more gaps than this are counted in one `more-gaps` row. */
export const MAX_GAP_ROWS = 100;

export interface AssembledTrace {
  /** One per span (a start record merged with its end record), as stored: times not shifted. */
  spans: Span[];
  /** Index of each span's parent in `spans`, -1 for a root (or a span whose parent is missing). */
  parents: number[];
  /** Every span once (a folded call's two halves in one row), placeholders among them, in display order. */
  rows: TraceRow[];
  /** Spans whose shown times were shifted, and by how much (index into `spans`). */
  clockSkew: SkewAdjustment[];
  /** Span ids from the root down to the span that finished the trace. */
  criticalPath: string[];
  gaps: TraceGapSummary;
}

type RowBody = Omit<SpanRow, 'depth'> | Omit<LostHopRow, 'depth'> | Omit<GapRow, 'depth'> | Omit<MoreGapsRow, 'depth'>;

interface Node {
  seq: number;
  body: RowBody;
  parent: Node | undefined;
  /** Position used to order siblings. */
  pos: string | undefined;
  /** Start used to order siblings (placeholders: their earliest child's). */
  startUs: number;
  children: Node[];
}

/** The caller's position of a valid rpcid (validated before), undefined for the root. */
function parentOf(rpcid: string): string | undefined {
  const dot = rpcid.lastIndexOf('.');
  return dot < 0 ? undefined : rpcid.slice(0, dot);
}

const isProperAncestor = (a: string, b: string): boolean => b.length > a.length && b.startsWith(a) && b.charCodeAt(a.length) === 46;

function isCallingKind(s: Span): boolean {
  return s.kind === 'client' || s.kind === 'producer';
}

export function assembleTrace(input: readonly Span[]): AssembledTrace {
  const graph = buildTraceGraph(Array.isArray(input) ? input : []);
  const { spans, parent } = graph;
  const n = spans.length;
  const skew = adjustClockSkew(graph);
  const delta = new Float64Array(n);
  for (const a of skew.adjustments) delta[a.index] = a.deltaUs;
  const criticalNodes = criticalPathNodes(graph);
  const critical = new Uint8Array(n);
  for (const v of criticalNodes) critical[v] = 1;

  // Shared halves: each client folds at most one server half of its id, the earliest (then first).
  const partnerOf = new Int32Array(n).fill(-1);
  const foldedInto = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    const s = spans[i]!;
    if (p < 0 || !isAnsweringHalf(s) || isAnsweringHalf(spans[p]!) || spans[p]!.spanId !== s.spanId) continue;
    const had = partnerOf[p]!;
    if (had < 0 || s.startUs + delta[i]! < spans[had]!.startUs + delta[had]!) partnerOf[p] = i;
  }
  // An OpenTelemetry call: the client span and the server span it caused have ids of their own, the
  // server's parent being the client. A client with no shared half folds its earliest server child
  // (at the same position when both carry one), so every call is one row however it was recorded.
  const childServerOf = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    const s = spans[i]!;
    if (p < 0 || partnerOf[p]! >= 0 || s.kind !== 'server' || s.shared === true || spans[p]!.kind !== 'client' || spans[p]!.spanId === s.spanId) continue;
    const [mine, theirs] = [rpcidOf(s), rpcidOf(spans[p]!)];
    if (mine !== undefined && theirs !== undefined && mine !== theirs) continue;
    const had = childServerOf[p]!;
    if (had < 0 || s.startUs + delta[i]! < spans[had]!.startUs + delta[had]!) childServerOf[p] = i;
  }
  for (let c = 0; c < n; c++) if (childServerOf[c]! >= 0) partnerOf[c] = childServerOf[c]!;
  for (let c = 0; c < n; c++) if (partnerOf[c]! >= 0) foldedInto[partnerOf[c]!] = c;

  // Each span's position, validated once.
  const positionOf = spans.map(rpcidOf);
  const nodes: Node[] = [];
  const add = (body: RowBody, pos: string | undefined, startUs: number): Node => {
    const node: Node = { seq: nodes.length, body, parent: undefined, pos, startUs, children: [] };
    nodes.push(node);
    return node;
  };

  // One row per span, a folded server half sharing its client's row.
  const rowOf = new Array<Node | undefined>(n);
  for (let i = 0; i < n; i++) {
    if (foldedInto[i]! >= 0) continue;
    const s = spans[i]!;
    const partner = partnerOf[i]!;
    const server = partner >= 0 ? spans[partner]! : undefined;
    // The caller saw the whole call (network included): its times, when it has them.
    const timed = server !== undefined && s.durationUs === undefined ? partner : i;
    const body: Omit<SpanRow, 'depth'> = { kind: 'span', span: i, startUs: spans[timed]!.startUs + delta[timed]! };
    if (server !== undefined) {
      body.partner = partner;
      body.partnerStartUs = server.startUs + delta[partner]!;
      if (server.durationUs !== undefined) body.partnerDurationUs = server.durationUs;
    }
    const rpcid = (partner < 0 ? undefined : positionOf[partner]) ?? positionOf[i];
    if (rpcid !== undefined) body.rpcid = rpcid;
    const dur = spans[timed]!.durationUs;
    if (dur !== undefined) body.durationUs = dur;
    if (delta[i] !== 0 || (partner >= 0 && delta[partner] !== 0)) body.skewed = true;
    if (critical[i] === 1 || (partner >= 0 && critical[partner] === 1)) body.critical = true;
    rowOf[i] = add(body, rpcid, body.startUs);
  }
  for (let i = 0; i < n; i++) if (foldedInto[i]! >= 0) rowOf[i] = rowOf[foldedInto[i]!];
  for (let i = 0; i < n; i++) {
    const row = rowOf[i]!;
    if (foldedInto[i]! >= 0 || parent[i]! < 0) continue;
    const up = rowOf[parent[i]!]!;
    if (up !== row) row.parent = up;
  }

  // Where each position's calls hang: the receiving span there (the later half of a call), else the first.
  const rowAt = new Map<string, Node>();
  for (let i = 0; i < n; i++) {
    const rpcid = positionOf[i];
    if (rpcid === undefined) continue;
    const had = rowAt.get(rpcid);
    const callingOnly = had !== undefined && had.body.kind === 'span' && had.body.partner === undefined && isCallingKind(spans[had.body.span]!);
    if (had === undefined || (callingOnly && !isCallingKind(spans[i]!))) rowAt.set(rpcid, rowOf[i]!);
  }

  // Lost hops known by id: a parent named by spans of the trace but held by none.
  const ids = new Set<string>();
  for (const s of spans) ids.add(s.spanId);
  const orphansOf = new Map<string, Node[]>();
  for (let i = 0; i < n; i++) {
    if (foldedInto[i]! >= 0) continue;
    const s = spans[i]!;
    const named = s.parentSpanId;
    if (typeof named !== 'string' || named === s.spanId || ids.has(named)) continue;
    const list = orphansOf.get(named);
    if (list === undefined) orphansOf.set(named, [rowOf[i]!]);
    else list.push(rowOf[i]!);
  }
  const lostHops: Node[] = [];
  for (const [spanId, children] of orphansOf) {
    const up = children[0]!.parent;
    const sameParent = children.every((c) => c.parent === up);
    const at = children.map((c) => (c.pos === undefined ? undefined : parentOf(c.pos)));
    const position = at[0] !== undefined && at.every((q) => q === at[0]) && !rowAt.has(at[0]) ? at[0] : undefined;
    const body: Omit<LostHopRow, 'depth'> = { kind: 'lost-hop', spanId, text: position === undefined ? `missing parent span ${spanId}` : `lost hop ${position}: missing parent span ${spanId}` };
    if (position !== undefined) body.rpcid = position;
    const hop = add(body, position, Infinity);
    hop.parent = sameParent ? up : undefined;
    for (const c of children) c.parent = hop;
    if (position !== undefined) rowAt.set(position, hop);
    lostHops.push(hop);
  }

  // Lost positions: ancestors of recorded positions that no span holds, then skipped siblings.
  const gaps = findPositionGaps(rowAt.keys());
  // A chain of lost positions, each the only position below the one before, is one row: a span at
  // depth 64 below a lost branch gives one placeholder, not 63.
  const below = new Map<string, number>();
  for (const rpcid of [...rowAt.keys(), ...gaps.lostAncestors]) {
    const up = parentOf(rpcid);
    if (up !== undefined) below.set(up, (below.get(up) ?? 0) + 1);
  }
  const chainTop = new Map<Node, string>();
  for (const rpcid of gaps.lostAncestors) {
    if (rowAt.has(rpcid)) continue;
    const up = parentOf(rpcid);
    const above = up === undefined ? undefined : rowAt.get(up);
    const top = above === undefined ? undefined : chainTop.get(above);
    if (above !== undefined && top !== undefined && below.get(up!) === 1 && above.body.kind === 'lost-hop') {
      above.body.through = rpcid;
      above.body.text = `lost hops: no span at ${top} down to ${rpcid} (${rpcid.split('.').length - top.split('.').length + 1} positions)`;
      rowAt.set(rpcid, above);
      continue;
    }
    const hop = add({ kind: 'lost-hop', rpcid, text: `lost hop: no span at ${rpcid}` }, rpcid, Infinity);
    chainTop.set(hop, rpcid);
    rowAt.set(rpcid, hop);
    lostHops.push(hop);
  }
  for (const hop of lostHops) {
    const up = hop.pos === undefined ? undefined : parentOf(hop.pos);
    const host = up === undefined ? undefined : rowAt.get(up);
    if (host !== undefined) hop.parent = host;
  }
  // A row the graph hung under a recorded ancestor position (skipping the lost ones) goes under its lost parent.
  for (const row of nodes) {
    if (row.body.kind !== 'span' || row.pos === undefined) continue;
    const up = parentOf(row.pos);
    const hop = up === undefined ? undefined : rowAt.get(up);
    if (hop === undefined || hop.body.kind !== 'lost-hop' || row.parent === hop) continue;
    const current = row.parent?.pos;
    if (row.parent === undefined || (current !== undefined && isProperAncestor(current, up!))) row.parent = hop;
  }
  let gapPositions = 0;
  let listed = 0;
  for (const g of gaps.ranges) {
    gapPositions += g.count;
    const host = rowAt.get(g.parent);
    if (listed >= MAX_GAP_ROWS || host === undefined) continue;
    listed++;
    const rpcid = `${g.parent}.${g.first}`;
    const text = g.count === 1 ? `lost hop: no span at ${rpcid}` : `positions ${rpcid}–${g.last} missing (${g.count.toLocaleString('en-US')})`;
    const row = add({ kind: 'gap', rpcid, parent: g.parent, first: g.first, last: g.last, count: g.count, text }, rpcid, Infinity);
    row.parent = host;
  }
  const notListed = gaps.ranges.length - listed;
  if (notListed > 0) {
    let positions = 0;
    for (let k = listed; k < gaps.ranges.length; k++) positions += gaps.ranges[k]!.count;
    const text = `and ${notListed.toLocaleString('en-US')} more ${notListed === 1 ? 'gap' : 'gaps'} (${positions.toLocaleString('en-US')} positions)`;
    add({ kind: 'more-gaps', gaps: notListed, positions, text }, undefined, Infinity);
  }

  const rows = layOut(nodes);
  return {
    spans,
    parents: Array.from(parent),
    rows,
    clockSkew: skew.adjustments,
    criticalPath: criticalNodes.map((v) => spans[v]!.spanId),
    gaps: { lostHops: lostHops.length, gaps: gaps.ranges.length, gapPositions, gapsNotListed: notListed },
  };
}

function compareNodes(a: Node, b: Node): number {
  if (a.pos !== undefined && b.pos !== undefined && a.pos !== b.pos) return compareRpcid(a.pos, b.pos);
  if (a.startUs !== b.startUs) return a.startUs < b.startUs ? -1 : 1;
  return a.seq - b.seq;
}

/** Cuts parent loops (bad data), orders siblings by position then start, and lists the rows depth-first. */
function layOut(nodes: Node[]): TraceRow[] {
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the current walk, 2 settled
  const path: Node[] = [];
  for (const start of nodes) {
    let v: Node | undefined = start;
    while (v !== undefined && state[v.seq] === 0) {
      state[v.seq] = 1;
      path.push(v);
      v = v.parent;
    }
    if (v !== undefined && state[v.seq] === 1) v.parent = undefined;
    for (const u of path) state[u.seq] = 2;
    path.length = 0;
  }
  const roots: Node[] = [];
  for (const node of nodes) (node.parent === undefined ? roots : node.parent.children).push(node);
  // Placeholders take their earliest child's start (children first: reverse of a parents-first order).
  const order: Node[] = [...roots];
  for (let k = 0; k < order.length; k++) for (const c of order[k]!.children) order.push(c);
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k]!;
    if (v.body.kind === 'lost-hop') for (const c of v.children) v.startUs = Math.min(v.startUs, c.startUs);
  }
  for (const v of order) if (v.children.length > 1) v.children.sort(compareNodes);
  roots.sort(compareNodes);
  const rows: TraceRow[] = [];
  const stack: { node: Node; depth: number }[] = [];
  for (let k = roots.length - 1; k >= 0; k--) stack.push({ node: roots[k]!, depth: 0 });
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    rows.push({ depth, ...node.body } as TraceRow);
    for (let k = node.children.length - 1; k >= 0; k--) stack.push({ node: node.children[k]!, depth: depth + 1 });
  }
  return rows;
}
