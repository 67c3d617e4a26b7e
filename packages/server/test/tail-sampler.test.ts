/**
 * The TailSampler on its own (a fake store, times passed in): what the app tests cannot set up
 * cheaply — a failing store, a re-check that delays a drop, a trace checked twice, the bound on
 * how far a flow keep reaches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import type { DeletedRecords } from '@linktrace/storage';
import { FlowGroups, rootOf } from '../src/sampling/flow-groups.js';
import { TailSampler, type CheckedTrace } from '../src/sampling/tail-sampler.js';
import type { SamplingOptions } from '../src/sampling/keep-options.js';

const WINDOW_MS = 1000;
const W = WINDOW_MS * 1000;

class FakeStore {
  deleted: string[] = [];
  failures = 0;
  deleteTraces(ids: readonly string[]): Promise<DeletedRecords> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('store down'));
    }
    this.deleted.push(...ids);
    return Promise.resolve({ spans: ids.length, findings: 0 });
  }
}

function sampler(store: FakeStore, options: Partial<SamplingOptions> = {}): TailSampler {
  return new TailSampler({
    store,
    options: { policies: ['error'], ratePerSecond: 0, flowWindowMs: WINDOW_MS, maxPending: 100, ...options },
    clock: () => 0,
    warn: () => {},
  });
}

function checked(traceId: string, over: { error?: boolean; entity?: string; recheckAtUs?: number } = {}): CheckedTrace {
  const span: Span = {
    traceId,
    spanId: '00000000000000a1',
    service: 's',
    name: 'op',
    kind: 'internal',
    startUs: 1,
    durationUs: 1,
    status: { code: over.error === true ? 'error' : 'unset' },
    attributes: over.entity === undefined ? {} : { 'linktrace.stage': 'process', 'linktrace.entity.type': 'order', 'linktrace.entity.key': over.entity },
    events: [],
    links: [],
  };
  const t: CheckedTrace = { traceId, spans: [span], findings: [] };
  if (over.recheckAtUs !== undefined) t.recheckAtUs = over.recheckAtUs;
  return t;
}

describe('TailSampler', () => {
  it('retries a deletion that failed with the next flush, counted', async () => {
    const store = new FakeStore();
    const s = sampler(store);
    s.offer([checked('a'), checked('b')], 0);
    store.failures = 1;
    await s.flush(W);
    assert.deepStrictEqual([s.counts.dropped, s.counts.deleteFailures, s.status().waitingDeletes, store.deleted.length], [2, 1, 2, 0]);
    assert.match(s.status().lastError ?? '', /store down/);
    await s.flush(W + 1);
    assert.deepStrictEqual([s.status().waitingDeletes, store.deleted.sort(), s.counts.deletedSpans], [0, ['a', 'b'], 2]);
    assert.equal(s.status().lastError, undefined);
  });

  it('a trace the checker will check again is not dropped before that re-check', async () => {
    const store = new FakeStore();
    const s = sampler(store);
    s.offer([checked('a', { recheckAtUs: 3 * W })], 0);
    await s.flush(2 * W);
    assert.deepStrictEqual(store.deleted, []);
    // The re-check finds nothing to keep it either: dropped after it.
    s.offer([checked('a')], 3 * W + 1);
    await s.flush(3 * W + 2);
    assert.deepStrictEqual([store.deleted, s.counts.dropped], [['a'], 1]);
  });

  it('a kept trace checked again is counted once', () => {
    const s = sampler(new FakeStore());
    s.offer([checked('a', { error: true })], 0);
    s.offer([checked('a', { error: true })], 10);
    assert.equal(s.counts.kept.error, 1);
  });

  it("a flow keep reaches one window: a trace kept only through its flow does not extend it", async () => {
    const store = new FakeStore();
    const s = sampler(store);
    s.offer([checked('failed', { error: true, entity: '42' })], 0);
    // Kept through its flow, half a window later…
    s.offer([checked('next', { entity: '42' })], W / 2);
    // …but this one comes past the failed trace's window: nothing of its own keeps it.
    s.offer([checked('later', { entity: '42' })], W + W / 4);
    await s.flush(3 * W);
    assert.deepStrictEqual([s.counts.kept.error, s.counts.kept.flow, store.deleted], [1, 1, ['later']]);
  });

  it('--keep all keeps everything, a trace checked again counted once', async () => {
    const store = new FakeStore();
    const s = sampler(store, { policies: ['all'] });
    s.offer([checked('a'), checked('b')], 0);
    s.offer([checked('a')], 10);
    await s.flush(10 * W);
    assert.deepStrictEqual([s.counts.kept.all, store.deleted, s.status().pendingTraces], [2, [], 0]);
  });

  it('flow keys: one seen again stays, one not seen for the window goes, the oldest goes first past the bound', () => {
    const g = new FlowGroups(W, 3);
    const hot = g.join(['t:a', 'e:hot'], 0);
    for (let t = W / 10; t <= 3 * W; t += W / 10) {
      assert.equal(rootOf(g.join(['e:hot'], t)), rootOf(hot), `e:hot still in its group at ${t}`);
      g.expire(t);
    }
    assert.equal(g.decisionOf('a'), undefined);
    g.note('a', 'kept');
    g.expire(3 * W);
    assert.equal(g.size, 1, 't:a, not seen since 0, went; e:hot stays');
    g.join(['t:b'], 3 * W);
    g.join(['t:c'], 3 * W + 1);
    g.join(['t:d'], 3 * W + 2);
    assert.deepStrictEqual([g.size, g.evicted], [3, 1]);
    assert.ok(rootOf(g.join(['e:hot'], 3 * W + 3)) !== rootOf(hot), 'e:hot was the oldest queued: evicted');
  });
});
