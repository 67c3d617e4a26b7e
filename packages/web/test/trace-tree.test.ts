/** The waterfall's tree, without a browser: parents, placeholders, order, collapsing, critical path. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TraceView } from '@linktrace/server';
import { buildTraceTree, compareRpcid, fallbackCriticalPath, visibleRows, type TraceTree } from '../src/trace/trace-tree.js';

interface S {
  id: string;
  parent?: string;
  rpcid?: string;
  start: number;
  dur?: number;
}

/** A trace view as the server lays it out: parent indexes, lost positions and missing parents. */
function view(spans: S[], extra: Partial<TraceView> = {}): TraceView {
  const index = new Map(spans.map((s, i) => [s.id, i]));
  const missingParents = new Map<string, number[]>();
  spans.forEach((s, i) => {
    if (s.parent !== undefined && !index.has(s.parent)) missingParents.set(s.parent, [...(missingParents.get(s.parent) ?? []), i]);
  });
  return {
    traceId: 'a'.repeat(32),
    startUs: 0,
    durationUs: 1000,
    spanCount: spans.length,
    errorCount: 0,
    findingCount: 0,
    services: ['svc'],
    spans: spans.map((s) => ({
      traceId: 'a'.repeat(32),
      spanId: s.id,
      parentSpanId: s.parent,
      rpcid: s.rpcid,
      service: 'svc',
      name: s.id,
      kind: 'internal',
      startUs: s.start,
      durationUs: s.dur,
      status: { code: 'unset' },
      attributes: {},
      events: [],
      links: [],
    })),
    parents: spans.map((s) => (s.parent === undefined ? -1 : (index.get(s.parent) ?? -1))),
    positions: { missing: [], truncated: false, withoutRpcid: [], invalidRpcid: [] },
    missingParents: [...missingParents].map(([spanId, children]) => ({ spanId, children })),
    clockSkew: [],
    criticalPath: [],
    findings: [],
    ...extra,
  };
}

const keys = (tree: TraceTree, collapsed: ReadonlySet<string> = new Set()): string[] =>
  visibleRows(tree.roots, collapsed).map((r) => `${'.'.repeat(r.depth)}${r.node.key}`);

it('compareRpcid orders positions numerically, segment by segment', () => {
  const sorted = ['0.10', '0.2', '0', '0.1.3', '0.1', '0.1.10', '0.1.2'].sort(compareRpcid);
  assert.deepEqual(sorted, ['0', '0.1', '0.1.2', '0.1.3', '0.1.10', '0.2', '0.10']);
});

it('spans sit under their parents by start time; a missing parent is a placeholder root', () => {
  const v = view([
    { id: 'root', rpcid: '0', start: 0, dur: 100 },
    { id: 'late', parent: 'root', rpcid: '0.2', start: 50, dur: 10 },
    { id: 'early', parent: 'root', rpcid: '0.1', start: 10, dur: 10 },
    { id: 'orphan', parent: 'gone', start: 5, dur: 1 },
  ]);
  const tree = buildTraceTree(v);
  assert.deepEqual(keys(tree), ['s0', '.s2', '.s1', 'pgone', '.s3']);
  assert.equal(tree.roots[1]?.kind, 'missing-parent');
  assert.equal(tree.roots[1]?.missingSpanId, 'gone');
});

it('lost positions are placeholders among their siblings, under the later span of their parent position', () => {
  const v = view(
    [
      { id: 'client', rpcid: '0.1', start: 0, dur: 100 },
      { id: 'server', parent: 'client', rpcid: '0.1', start: 5, dur: 90 },
      { id: 'a', parent: 'server', rpcid: '0.1.1', start: 10, dur: 5 },
      { id: 'c', parent: 'server', rpcid: '0.1.3', start: 30, dur: 5 },
    ],
    { positions: { missing: ['0.1.2', '0'], truncated: false, withoutRpcid: [], invalidRpcid: [] } },
  );
  const tree = buildTraceTree(v);
  // `0` has no parent position: a root placeholder. `0.1.2` goes between 0.1.1 and 0.1.3 under the server half.
  assert.deepEqual(keys(tree), ['r0', 's0', '.s1', '..s2', '..r0.1.2', '..s3']);
  assert.equal(tree.missingPositions, 2);
  assert.deepEqual([...tree.lostKeys].sort(), ['r0', 'r0.1.2']);
});

it('collapsed rows hide their subtree only', () => {
  const v = view([
    { id: 'root', start: 0, dur: 100 },
    { id: 'x', parent: 'root', start: 1, dur: 50 },
    { id: 'x1', parent: 'x', start: 2, dur: 10 },
    { id: 'y', parent: 'root', start: 60, dur: 10 },
  ]);
  const tree = buildTraceTree(v);
  assert.deepEqual(keys(tree, new Set(['s1'])), ['s0', '.s1', '.s3']);
  assert.deepEqual(keys(tree, new Set(['s0'])), ['s0']);
});

it('clock skew shifts a span (and its place among siblings); the timeline spans the corrected times', () => {
  const v = view(
    [
      { id: 'root', start: 1000, dur: 100 },
      { id: 'a', parent: 'root', start: 1010, dur: 10 },
      { id: 'b', parent: 'root', start: 900, dur: 10 },
    ],
    { clockSkew: [{ span: 2, spanId: 'b', deltaUs: 150, reason: 'starts-before-parent' }] },
  );
  const tree = buildTraceTree(v);
  assert.equal(tree.skew.get(2), 150);
  assert.deepEqual(keys(tree), ['s0', '.s1', '.s2']);
  assert.equal(tree.startUs, 1000);
  assert.equal(tree.endUs, 1100);
});

it('the fallback critical path follows the child that ended last, from the longest root', () => {
  const v = view([
    { id: 'root', start: 0, dur: 100 },
    { id: 'fast', parent: 'root', start: 0, dur: 20 },
    { id: 'slow', parent: 'root', start: 10, dur: 85 },
    { id: 'leaf', parent: 'slow', start: 20, dur: 70 },
    { id: 'other', start: 0, dur: 5 },
    { id: 'unfinished', parent: 'root', start: 1 },
  ]);
  assert.deepEqual([...fallbackCriticalPath(v, buildTraceTree(v))], ['root', 'slow', 'leaf']);
  assert.deepEqual([...fallbackCriticalPath(view([]), buildTraceTree(view([])))], [], 'an empty trace has none');
});
