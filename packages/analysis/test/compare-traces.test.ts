/** Trace comparison: calls matched by service + name + position, and told added, missing, slower, faster or same. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { assembleTrace, compareTraces, type TraceComparison } from '../src/index.js';
import { span, T0 } from './assembly-support.js';

let seq = 0;
/** A trace from [service, name, durationUs, rpcid?, parent index?] tuples. */
function trace(calls: [string, string, number, string | undefined, number | undefined][]): Span[] {
  const traceId = (++seq).toString(16).padStart(32, 'a');
  const ids = calls.map((_, i) => `${seq.toString(16).padStart(8, '0')}${(i + 1).toString(16).padStart(8, '0')}`);
  return calls.map(([service, name, durationUs, rpcid, parent], i) =>
    span({ traceId, spanId: ids[i]!, parentSpanId: parent === undefined ? undefined : ids[parent], service, name, durationUs, startUs: T0 + i * 10, ...(rpcid !== undefined ? { rpcid } : {}) }),
  );
}

const changes = (c: TraceComparison): string[] => c.calls.map((x) => `${x.change} ${x.service}:${x.name}@${x.position}`);

describe('compareTraces', () => {
  it('two traces with rpcids: a missing call, an added one, a slower and a faster one, the rest the same', () => {
    const a = trace([
      ['gateway', 'GET /order', 100_000, '0', undefined],
      ['orders', 'reserve', 40_000, '0.1', 0],
      ['payments', 'charge', 20_000, '0.2', 0],
      ['stock', 'check', 30_000, '0.1.1', 1],
    ]);
    const b = trace([
      ['gateway', 'GET /order', 150_000, '0', undefined],
      ['orders', 'reserve', 90_000, '0.1', 0],
      ['stock', 'check', 10_000, '0.1.1', 1],
      ['notify', 'send', 5_000, '0.3', 0],
    ]);
    const c = compareTraces([assembleTrace(a)], [assembleTrace(b)]);
    assert.deepEqual(changes(c), [
      'missing payments:charge@0.2',
      'added notify:send@0.3',
      'slower gateway:GET /order@0',
      'slower orders:reserve@0.1',
      'faster stock:check@0.1.1',
    ]);
    assert.deepEqual(c.changes, { missing: 1, added: 1, slower: 2, faster: 1, same: 0 });
    const reserve = c.calls.find((x) => x.name === 'reserve')!;
    assert.deepEqual([reserve.a?.medianUs, reserve.b?.medianUs, reserve.deltaUs], [40_000, 90_000, 50_000]);
    assert.deepEqual([c.a.traces, c.a.calls, c.b.calls], [1, 4, 4]);
    assert.equal(c.a.medianDurationUs, 100_000);
  });

  it('without rpcids, calls line up by their path from the root and their order among like siblings', () => {
    const shape = (second: number): Span[] =>
      trace([
        ['api', 'handle', 50_000, undefined, undefined],
        ['db', 'query', 1_000, undefined, 0],
        ['db', 'query', second, undefined, 0],
      ]);
    const c = compareTraces([assembleTrace(shape(2_000))], [assembleTrace(shape(9_000))]);
    assert.deepEqual(changes(c), ['slower db:query@/api:handle#0/db:query#1', 'same api:handle@/api:handle#0', 'same db:query@/api:handle#0/db:query#0']);
  });

  it('small changes are noise: a ratio and an absolute margin must both be passed', () => {
    const c = compareTraces(
      [assembleTrace(trace([['svc', 'tiny', 50, '0', undefined], ['svc', 'big', 1_000_000, '0.1', 0]]))],
      [assembleTrace(trace([['svc', 'tiny', 80, '0', undefined], ['svc', 'big', 1_100_000, '0.1', 0]]))],
    );
    assert.deepEqual(c.changes, { missing: 0, added: 0, slower: 0, faster: 0, same: 2 });
    const strict = compareTraces(
      [assembleTrace(trace([['svc', 'big', 1_000_000, '0', undefined]]))],
      [assembleTrace(trace([['svc', 'big', 1_100_000, '0', undefined]]))],
      { minRatio: 1.05, minDeltaUs: 1000 },
    );
    assert.equal(strict.calls[0]!.change, 'slower');
  });

  it('two groups: medians over the traces, a call counted by how many traces hold it', () => {
    const before = [10_000, 12_000, 14_000].map((d) => assembleTrace(trace([['web', 'GET /', 100_000, '0', undefined], ['cache', 'get', d, '0.1', 0]])));
    const after = [
      assembleTrace(trace([['web', 'GET /', 100_000, '0', undefined], ['db', 'select', 40_000, '0.1', 0]])),
      assembleTrace(trace([['web', 'GET /', 100_000, '0', undefined], ['cache', 'get', 30_000, '0.1', 0]])),
    ];
    const c = compareTraces(before, after);
    assert.deepEqual(changes(c), ['added db:select@0.1', 'slower cache:get@0.1', 'same web:GET /@0']);
    const cache = c.calls.find((x) => x.service === 'cache')!;
    assert.equal(cache.change, 'slower');
    assert.deepEqual(cache.a, { traces: 3, count: 3, medianUs: 12_000 });
    assert.deepEqual(cache.b, { traces: 1, count: 1, medianUs: 30_000 });
    const db = c.calls.find((x) => x.service === 'db')!;
    assert.equal(db.change, 'added');
    assert.equal(db.a, undefined);
    assert.deepEqual([c.a.traces, c.b.traces], [3, 2]);
  });

  it('a client and its server half (one Zipkin span id) are one call; no traces at all compare empty', () => {
    const traceId = 'f'.repeat(32);
    const halves = [
      span({ traceId, spanId: '1'.repeat(16), service: 'web', name: 'GET /', kind: 'server', durationUs: 9000 }),
      span({ traceId, spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16), service: 'web', name: 'get stock', kind: 'client', durationUs: 5000 }),
      span({ traceId, spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16), service: 'stock', name: 'get stock', kind: 'server', durationUs: 4000, shared: true }),
    ];
    const c = compareTraces([assembleTrace(halves)], [assembleTrace(halves)]);
    assert.equal(c.calls.length, 2);
    assert.deepEqual(c.changes.same, 2);
    assert.deepEqual(compareTraces([], []), { a: { traces: 0, calls: 0 }, b: { traces: 0, calls: 0 }, changes: { missing: 0, added: 0, slower: 0, faster: 0, same: 0 }, calls: [] });
  });
});
