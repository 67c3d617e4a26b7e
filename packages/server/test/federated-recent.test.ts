/**
 * The agent's memory of recent traces answers only for traces it holds whole: evicted traces,
 * late records of them, traces begun before a restart on a non-empty store, and foreign ids go to
 * the store; start and end records are merged as the store merges them.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createTraceIdGenerator, type TraceIdClock } from '@linktrace/model';
import { span } from '@linktrace/model/testing';
import { RecentTraces } from '../src/federated/recent-traces.js';

/** Trace ids stamped at a given wall time. */
function idAt(ms: number): string {
  const clock: TraceIdClock = { now: () => 0, wallMs: () => ms };
  return createTraceIdGenerator({ ipv4: '10.0.0.1', port: 1, clock })();
}

const NOW = Date.now();

describe('recent traces of an agent', () => {
  it('answers a trace stored since a fresh start, start and end records merged', () => {
    const recent = new RecentTraces(NOW);
    recent.storeWasEmpty();
    const id = idAt(NOW - 1000);
    recent.observe([span({ traceId: id, spanId: '0000000000000001', durationUs: undefined }), span({ traceId: id, spanId: '0000000000000002', startUs: 5 })]);
    recent.observe([span({ traceId: id, spanId: '0000000000000001' })]);
    const got = recent.get(id)!;
    assert.deepEqual(
      got.map((s) => `${s.spanId}:${String(s.durationUs)}`),
      ['0000000000000002:100', '0000000000000001:100'],
    );
  });

  it('after a restart on a non-empty store, traces begun before it are read from the store', () => {
    const recent = new RecentTraces(NOW);
    const before = idAt(NOW - 10_000);
    const after = idAt(NOW + 120_000);
    recent.observe([span({ traceId: before, spanId: '0000000000000001' }), span({ traceId: after, spanId: '0000000000000002' })]);
    assert.equal(recent.get(before), undefined);
    assert.equal(recent.get(after)?.length, 1);
  });

  it('foreign ids are never answered from memory', () => {
    const recent = new RecentTraces(NOW);
    recent.storeWasEmpty();
    recent.observe([span({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '0000000000000001' })]);
    assert.equal(recent.get('4bf92f3577b34da6a3ce929d0e0e4736'), undefined);
  });

  it('evicts whole traces, oldest first, and never answers for a late record of an evicted one', () => {
    const recent = new RecentTraces(NOW, 4);
    recent.storeWasEmpty();
    const a = idAt(NOW - 3000);
    const b = idAt(NOW - 2000);
    const c = idAt(NOW - 1000);
    recent.observe([span({ traceId: a, spanId: '00000000000000a1' }), span({ traceId: a, spanId: '00000000000000a2' })]);
    recent.observe([span({ traceId: b, spanId: '00000000000000b1' }), span({ traceId: b, spanId: '00000000000000b2' })]);
    recent.observe([span({ traceId: c, spanId: '00000000000000c1' })]);
    assert.equal(recent.get(a), undefined, 'a was evicted');
    assert.equal(recent.get(b)?.length, 2);
    recent.observe([span({ traceId: a, spanId: '00000000000000a3' })]);
    assert.equal(recent.get(a), undefined, 'a late record of an evicted trace does not make a partial answer');
  });
});
