import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ATTR } from '@linktrace/model';
import { createDispatcher, createSyncJob, MemoryQueue, MemorySyncState, startWorker, type SyncJobDefinition } from '../src/index.js';
import { collectingTracing, findings, rules, VersionedTarget } from './helpers.js';

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

function world(overrides: Partial<SyncJobDefinition<number>> = {}, workers = 3) {
  const { tracing, collector } = collectingTracing();
  const queue = new MemoryQueue('shop-changed');
  const state = new MemorySyncState();
  const target = new VersionedTarget<number>('postgres:copy');
  const versions = new Map<string, number>();
  let inFetch = 0;
  let maxInFetch = 0;
  let fetches = 0;
  const job = createSyncJob<number>(
    {
      name: 'copy',
      entityType: 'item',
      fetch: async (key) => {
        fetches++;
        inFetch++;
        maxInFetch = Math.max(maxInFetch, inFetch);
        await delay(1);
        inFetch--;
        const v = versions.get(key);
        return v === undefined ? undefined : { version: v, data: v };
      },
      targets: [target],
      recentWindowMs: 60_000,
      retry: { maxAttempts: 3, baseDelayMs: 5 },
      ...overrides,
    },
    { tracing, state },
  );
  const dispatcher = createDispatcher({ job: job.definition, queue, tracing, state });
  return { tracing, collector, queue, state, target, versions, job, dispatcher, workers, stats: () => ({ fetches, maxInFetch }) };
}

describe('workers on a queue', () => {
  it('a storm of duplicate triggers yields exactly one write per entity version, with bounded concurrency', async () => {
    const w = world();
    for (let i = 0; i < 50; i++) w.versions.set(`k${i}`, 1 + (i % 3));
    const workers = await Promise.all([1, 2, 3].map(() => startWorker({ job: w.job, queue: w.queue, prefetch: 4 })));
    for (let round = 0; round < 10; round++) for (let i = 0; i < 50; i++) await w.dispatcher.trigger(`k${i}`, { reason: 'demand' });
    await until('every trigger handled', () => w.queue.depth === 0 && workers.reduce((n, x) => n + x.counters.handled, 0) === 500);
    assert.equal(w.target.log.length, 50);
    assert.equal(new Set(w.target.log).size, 50);
    assert.ok(w.stats().maxInFetch <= 12, `at most prefetch × workers fetches at once, saw ${w.stats().maxInFetch}`);
    assert.ok(w.stats().fetches < 500, `duplicates were skipped before the source: ${w.stats().fetches} fetches`);
    for (const x of workers) await x.close();
    assert.deepEqual(findings(w.collector), []);
  });

  it('a malformed message is acked and recorded as a skip with the reason', async () => {
    const w = world();
    const worker = await startWorker({ job: w.job, queue: w.queue });
    await w.queue.publish(Buffer.from('{"key": 3}'), {});
    await w.queue.publish(Buffer.from('not json'), {});
    await until('two malformed', () => worker.counters.malformed === 2);
    const skips = w.collector.spans.filter((s) => s.attributes[ATTR.stage] === 'skip');
    assert.deepEqual(skips.map((s) => [s.attributes[ATTR.skipReason], s.attributes['linktrace.sync.detail']]).sort(), [
      ['malformed trigger', 'key must be a string of 1 to 512 characters'],
      ['malformed trigger', 'not JSON'],
    ]);
    await worker.close();
  });

  it('a failing run is retried with backoff, then given up with an error on the consume: never a silent loss', async () => {
    const w = world({ fetch: () => Promise.reject(new Error('source down')) });
    const worker = await startWorker({ job: w.job, queue: w.queue });
    await w.dispatcher.trigger('x', { version: 1 });
    await until('given up', () => worker.counters.gaveUp === 1);
    assert.equal(worker.counters.retried, 2);
    const consumes = w.collector.spans.filter((s) => s.attributes[ATTR.stage] === 'consume');
    assert.deepEqual(consumes.map((c) => c.attributes['linktrace.sync.attempt']), [1, 2, 3]);
    assert.equal(consumes[2]!.status.message, 'gave up after 3 attempts: source down');
    assert.equal(new Set(consumes.map((c) => c.traceId)).size, 1, 'every attempt in the trigger trace');
    assert.equal(new Set(consumes.map((c) => c.rpcid)).size, 3, 'each attempt has a position of its own');
    // The failed fetch is the cause: one stage-error per attempt, not also one on the consume.
    assert.deepEqual(rules(findings(w.collector)), ['stage-error sync-worker', 'stage-error sync-worker', 'stage-error sync-worker']);
    await worker.close();
  });

  it('duplicate-delivery: a lost ack whose redelivery runs unguarded is found as duplicate-write', async () => {
    const w = world();
    w.versions.set('d', 1);
    const worker = await startWorker({ job: w.job, queue: w.queue, faultOf: (t) => (t.meta?.['fault'] === 'dup' ? 'duplicate-delivery' : undefined) });
    const guard = w.target.write;
    w.target.write = (key, record, ctx) => {
      // A target with no guard of its own, as the fault assumes.
      w.target.log.push(`${key}@${record.version}`);
      return guard(key, record, { fence: ctx.fence }) === 'written' ? 'written' : 'written';
    };
    await w.dispatcher.trigger('d', { version: 1, meta: { fault: 'dup' } });
    await until('two runs', () => worker.counters.handled === 1 && w.target.log.length >= 2);
    assert.deepEqual(rules(findings(w.collector)), ['duplicate-write sync-worker postgres:copy']);
    await worker.close();
  });

  it('the trigger trace links the enqueue to the consume and the run', async () => {
    const w = world();
    w.versions.set('t', 5);
    const worker = await startWorker({ job: w.job, queue: w.queue });
    await w.dispatcher.trigger('t', { version: 5 });
    await until('written', () => w.target.log.length === 1);
    await until('consume ended', () => w.collector.spans.some((s) => s.attributes[ATTR.stage] === 'consume'));
    const byStage = new Map(w.collector.spans.map((s) => [String(s.attributes[ATTR.stage]), s]));
    assert.equal(byStage.get('consume')!.parentSpanId, byStage.get('enqueue')!.spanId);
    assert.equal(byStage.get('receive')!.parentSpanId, byStage.get('consume')!.spanId);
    assert.equal(byStage.get('enqueue')!.attributes[ATTR.target], 'mq:shop-changed');
    assert.equal(new Set(w.collector.spans.map((s) => s.traceId)).size, 1);
    await worker.close();
  });
});
