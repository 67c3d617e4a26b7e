import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '@linktrace/model';
import { TraceBuffer } from '../src/trace-buffer.js';
import { shopSync } from './shop-sync.js';

const S = 1_000_000;

function spansOf(traceId: string, count: number): Span[] {
  const base = shopSync()[0]!;
  return Array.from({ length: count }, (_, i) => ({ ...base, traceId, spanId: `${traceId.slice(0, 8)}${String(i).padStart(8, '0')}` }));
}

describe('TraceBuffer', () => {
  it('a trace is due after the quiet delay since its last span, not before', () => {
    const b = new TraceBuffer({ checkDelayMs: 30_000 });
    assert.equal(b.add(spansOf('t1', 3), 0), 3);
    b.add(spansOf('t2', 2), 10 * S);
    assert.deepEqual(b.due(29 * S), []);
    b.add(spansOf('t1', 1), 20 * S); // t1 is active again
    assert.deepEqual(b.due(30 * S), []);
    assert.deepEqual(b.due(40 * S), ['t2']);
    assert.deepEqual(b.due(50 * S), ['t2', 't1']);
    const t = b.take('t1');
    assert.equal(t?.spans.length, 4);
    assert.equal(t?.firstUs, 0);
    assert.equal(t?.lastUs, 20 * S);
    assert.equal(b.take('t1'), undefined);
    assert.deepEqual(b.due(50 * S), ['t2']);
    assert.deepEqual(b.stats(), { openTraces: 1, openSpans: 2, droppedTraces: 0, droppedSpans: 0, invalidSpans: 0 });
  });
  it('a trace that never goes quiet is due after the maximum wait since its first span', () => {
    const b = new TraceBuffer({ checkDelayMs: 30_000, maxWaitMs: 60_000 });
    for (let sec = 0; sec <= 70; sec += 10) {
      b.add(spansOf('busy', 1), sec * S);
      const due = b.due(sec * S);
      assert.deepEqual(due, sec >= 60 ? ['busy'] : [], `at ${sec} s`);
    }
    assert.equal(b.take('busy')?.spans.length, 8);
    // a new trace with the same id starts its own wait
    b.add(spansOf('busy', 1), 71 * S);
    assert.deepEqual(b.due(90 * S), []);
    assert.deepEqual(b.due(101 * S), ['busy']);
  });
  it('caps open traces: spans of a trace that does not fit are refused and counted', () => {
    const b = new TraceBuffer({ maxOpenTraces: 2 });
    b.add([...spansOf('t1', 2), ...spansOf('t2', 2), ...spansOf('t3', 3), ...spansOf('t4', 1)], 0);
    b.add(spansOf('t1', 1), 1);
    assert.deepEqual(b.stats(), { openTraces: 2, openSpans: 5, droppedTraces: 2, droppedSpans: 4, invalidSpans: 0 });
    b.take('t2');
    assert.equal(b.add(spansOf('t3', 1), 2), 1);
    assert.equal(b.stats().openTraces, 2);
  });
  it('caps spans per trace: the rest is counted on the trace and in the totals', () => {
    const b = new TraceBuffer({ maxSpansPerTrace: 3 });
    assert.equal(b.add(spansOf('t1', 5), 0), 3);
    assert.equal(b.stats().droppedSpans, 2);
    const t = b.take('t1');
    assert.equal(t?.spans.length, 3);
    assert.equal(t?.droppedSpans, 2);
    assert.equal(b.stats().openSpans, 0);
  });
  it('records without a trace id are ignored and counted; bad options fall back to defaults', () => {
    const b = new TraceBuffer({ checkDelayMs: -1, maxWaitMs: NaN, maxOpenTraces: 0 });
    assert.equal(b.add([null, { traceId: 5 }, {}] as unknown as Span[], 0), 0);
    assert.equal(b.stats().invalidSpans, 3);
    b.add(spansOf('t1', 1), 0);
    assert.deepEqual(b.due(29_999_999), []);
    assert.deepEqual(b.due(30 * S), ['t1']);
  });
  it('many traces: due returns exactly the quiet ones, in arrival order, and stays bounded', () => {
    const b = new TraceBuffer({ checkDelayMs: 1_000, maxWaitMs: 10_000 });
    for (let i = 0; i < 5_000; i++) b.add(spansOf(`t${i}`, 1), i * 1000);
    // traces 0..999 refreshed late
    for (let i = 0; i < 1_000; i++) b.add(spansOf(`t${i}`, 1), 5_000_000);
    const due = b.due(5_000_000);
    // quiet since 4.0 s or earlier: t1000 .. t4000
    assert.equal(due.length, 3_001);
    assert.equal(due[0], 't1000');
    assert.equal(due.at(-1), 't4000');
    for (const id of due) b.take(id);
    assert.deepEqual(b.due(5_000_000), []);
    const later = b.due(6_000_000);
    assert.equal(later.length, 1_999);
    assert.equal(later[0], 't4001');
    assert.equal(later.at(-1), 't999');
    assert.equal(b.stats().openTraces, 1_999);
  });
});
