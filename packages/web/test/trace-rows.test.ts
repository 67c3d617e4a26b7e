/**
 * The waterfall's rows without a browser: the UI draws the rows the server assembled (no tree of
 * its own), collapses subtrees, finds a row's parent and a span's row.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Span } from '@linktrace/model';
import { buildTraceView } from '@linktrace/server';
import { ancestorKeys, parentRow, rowKey, rowOfSpan, skewBySpan, timeline, visibleRows } from '../src/trace/trace-rows.js';

const TRACE = 'a'.repeat(32);
let next = 0;
function span(over: Partial<Span> & { name: string }): Span {
  return { traceId: TRACE, spanId: (++next).toString(16).padStart(16, '0'), service: 'svc', kind: 'internal', startUs: 1000, durationUs: 10, status: { code: 'unset' }, attributes: {}, events: [], links: [], ...over };
}

const label = (v: ReturnType<typeof buildTraceView>, keys: ReadonlySet<string> = new Set()): string[] =>
  visibleRows(v.rows, keys).map(({ row, depth }) => `${'.'.repeat(depth)}${row.kind === 'span' ? v.spans[row.span]!.name : row.kind}`);

it('draws the rows as assembled: a lost hop once, a parent cycle in full, shared halves as one row', () => {
  const root = span({ name: 'root', rpcid: '0', durationUs: 1000 });
  const lost = 'dddddddddddddddd';
  const v = buildTraceView(TRACE, [
    root,
    span({ name: 'one', rpcid: '0.1', parentSpanId: root.spanId, startUs: 1010 }),
    span({ name: 'two-one', rpcid: '0.2.1', parentSpanId: lost, startUs: 1300 }),
    span({ name: 'two-two', rpcid: '0.2.2', parentSpanId: lost, startUs: 1400 }),
  ]);
  // The old UI drew the lost 0.2 twice (as a missing parent and as a missing position).
  assert.deepEqual(label(v), ['root', '.one', '.lost-hop', '..two-one', '..two-two']);

  const a = span({ name: 'a', spanId: 'aaaaaaaaaaaaaaa1', parentSpanId: 'aaaaaaaaaaaaaaa3' });
  const b = span({ name: 'b', spanId: 'aaaaaaaaaaaaaaa2', parentSpanId: 'aaaaaaaaaaaaaaa1' });
  const c = span({ name: 'c', spanId: 'aaaaaaaaaaaaaaa3', parentSpanId: 'aaaaaaaaaaaaaaa2' });
  // The old UI showed 1 of these 3 spans.
  assert.deepEqual(label(buildTraceView(TRACE, [a, b, c])), ['a', '.b', '..c']);

  const client = span({ name: 'call', spanId: 'cccccccccccccccc', kind: 'client', instance: 'a:1', startUs: 1000, durationUs: 100 });
  const server = span({ name: 'handle', spanId: 'cccccccccccccccc', kind: 'server', shared: true, instance: 'b:1', startUs: 1010, durationUs: 80 });
  const child = span({ name: 'db', parentSpanId: 'cccccccccccccccc', instance: 'b:1', startUs: 1020 });
  const folded = buildTraceView(TRACE, [client, server, child]);
  // The old UI drew the two halves as two rows.
  assert.deepEqual(label(folded), ['call', '.db']);
  const rows = rowOfSpan(folded);
  assert.equal(rows.get(0), 0);
  assert.equal(rows.get(1), 0, 'both halves are the first row');
});

it('collapsed rows hide their subtree only; parents and ancestors come from depths', () => {
  const root = span({ name: 'root', durationUs: 100 });
  const x = span({ name: 'x', parentSpanId: root.spanId, startUs: 1001 });
  const x1 = span({ name: 'x1', parentSpanId: x.spanId, startUs: 1002 });
  const y = span({ name: 'y', parentSpanId: root.spanId, startUs: 1060 });
  const v = buildTraceView(TRACE, [root, x, x1, y]);
  assert.deepEqual(label(v), ['root', '.x', '..x1', '.y']);
  assert.deepEqual(label(v, new Set([rowKey(1)])), ['root', '.x', '.y']);
  assert.deepEqual(label(v, new Set([rowKey(0)])), ['root']);
  assert.deepEqual(visibleRows(v.rows, new Set()).map((r) => r.hasChildren), [true, true, false, false]);
  assert.deepEqual([parentRow(v.rows, 0), parentRow(v.rows, 2), parentRow(v.rows, 3)], [-1, 1, 0]);
  assert.deepEqual(ancestorKeys(v.rows, 2), [rowKey(1), rowKey(0)]);
});

it('the timeline spans the shown (skew-corrected) times', () => {
  const root = span({ name: 'root', instance: 'a', startUs: 1000, durationUs: 100 });
  const early = span({ name: 'early', parentSpanId: root.spanId, instance: 'b', startUs: 900, durationUs: 10 });
  const v = buildTraceView(TRACE, [root, early]);
  assert.deepEqual([...skewBySpan(v)], [[1, 145]]);
  assert.deepEqual(timeline(v), { startUs: 1000, endUs: 1100 });
});
