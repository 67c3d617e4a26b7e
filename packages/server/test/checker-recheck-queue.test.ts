/**
 * The checker's re-check queue: ordered by due time whatever the insertion order (re-checks deferred
 * until their trace is quiet land anywhere), first in first out at equal times, bounded (counted),
 * and a waiting re-check can let its spans go to read the trace back (the memory budget).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '@linktrace/model';
import { RecheckQueue } from '../src/checker/recheck-queue.js';

const spans = (n: number): Span[] => Array.from({ length: n }, () => ({}) as Span);

void test('re-checks come out by due time, first in first out at equal times, at most `limit`', () => {
  const q = new RecheckQueue(10);
  for (const [atUs, traceId] of [[50, 'e'], [10, 'a'], [30, 'c'], [10, 'b'], [40, 'd'], [30, 'c2']] as const) {
    assert.equal(q.add({ atUs, traceId, firstUs: 0, spans: [] }), true);
  }
  assert.equal(q.add({ atUs: 1, traceId: 'a', firstUs: 0, spans: [] }), false, 'already waiting');
  assert.deepEqual(q.takeDue(5, 10), []);
  assert.deepEqual(q.takeDue(30, 2).map((r) => r.traceId), ['a', 'b']);
  assert.deepEqual(q.takeDue(30, 10).map((r) => r.traceId), ['c', 'c2']);
  assert.equal(q.take('e')?.traceId, 'e');
  assert.deepEqual(q.takeDue(1000, 10).map((r) => r.traceId), ['d']);
  assert.equal(q.size, 0);
});

void test('a full queue refuses and counts; held spans are counted and let go for a read-back', () => {
  const q = new RecheckQueue(2);
  assert.equal(q.add({ atUs: 1, traceId: 'a', firstUs: 0, spans: spans(3) }), true);
  assert.equal(q.add({ atUs: 2, traceId: 'b', firstUs: 0, spans: spans(4) }), true);
  assert.equal(q.add({ atUs: 3, traceId: 'c', firstUs: 0, spans: [] }), false);
  assert.equal(q.dropped, 1);
  assert.equal(q.heldSpans, 7);
  assert.equal(q.readBackWhenDue('a', 99), true);
  assert.equal(q.readBackWhenDue('zz', 99), false);
  assert.equal(q.heldSpans, 4);
  const [a] = q.takeDue(1, 1);
  assert.deepEqual([a?.spans.length, a?.quietUs], [0, 99]);
  q.take('b');
  assert.equal(q.heldSpans, 0);
});
