import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDispatcher, createSyncJob, MemoryQueue, MemorySyncState, periodOf, Scheduler, type SyncJobDefinition, type TierPolicy } from '../src/index.js';
import { collectingTracing, ManualClock, VersionedTarget } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const POLICY: TierPolicy = {
  tiers: [
    { name: 'active', periodMs: 15 * MIN, activeWithinMs: DAY },
    { name: 'occasional', periodMs: 6 * HOUR, activeWithinMs: 30 * DAY },
    { name: 'dormant', periodMs: 7 * DAY },
  ],
};

describe('tiers', () => {
  it('each tier has its period; empty syncs back off 1 day, 2 days, 4 days … up to the cap, never below the tier', () => {
    assert.equal(periodOf(POLICY, { tier: 'active' }), 15 * MIN);
    assert.equal(periodOf(POLICY, { tier: 'occasional' }), 6 * HOUR);
    assert.equal(periodOf(POLICY, {}), 7 * DAY, 'no tier: the least active');
    assert.equal(periodOf(POLICY, { tier: 'nonsense' }), 7 * DAY);
    assert.deepEqual([1, 2, 3, 4, 10].map((n) => periodOf(POLICY, { tier: 'active', emptyStreak: n }) / DAY), [1, 2, 4, 8, 30]);
    assert.equal(periodOf(POLICY, { tier: 'dormant', emptyStreak: 1 }), 7 * DAY);
  });
});

describe('the scheduler with an injected clock', () => {
  function setup() {
    const clock = new ManualClock();
    const { tracing } = collectingTracing();
    const state = new MemorySyncState();
    const queue = new MemoryQueue('sync');
    const data = new Map<string, number>();
    const target = new VersionedTarget<number>('postgres:copy');
    const def: SyncJobDefinition<number> = {
      name: 'tiered',
      entityType: 'user',
      fetch: (key) => (data.has(key) ? { version: data.get(key)!, data: data.get(key)! } : undefined),
      targets: [target],
      tiers: POLICY,
    };
    const job = createSyncJob(def, { tracing, state, clock });
    const dispatcher = createDispatcher({ job: def, queue, tracing, state, clock });
    const scheduler = new Scheduler({ job: def, state, dispatcher, clock, leaseMs: HOUR });
    // The queue is drained by hand: each scheduled trigger runs the job here.
    const drain = async (): Promise<string[]> => {
      const ran: string[] = [];
      const sub = await queue.consume(async (d) => {
        const t = JSON.parse(d.body.toString()) as { key: string; reason: 'schedule'; at: number };
        await job.run(t);
        ran.push(t.key);
        return { how: 'ack' };
      }, { prefetch: 100 });
      while (queue.depth > 0) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5));
      await sub.cancel();
      return ran.sort();
    };
    return { clock, state, data, scheduler, drain, job };
  }

  it('syncs each entity once per its tier period; an empty one backs off and returns to its period when data appears', async () => {
    const t = setup();
    t.data.set('a', 1);
    await t.scheduler.enroll('a', 'active');
    await t.scheduler.enroll('e', 'active'); // empty at the source
    assert.equal(await t.scheduler.tick(), 2);
    assert.deepEqual(await t.drain(), ['a', 'e']);
    assert.equal(await t.scheduler.tick(), 0, 'nothing due right after');
    t.clock.advance(15 * MIN);
    assert.equal(await t.scheduler.tick(), 1, 'a is due after 15 minutes; e backs off a day');
    assert.deepEqual(await t.drain(), ['a']);
    t.clock.advance(DAY - 15 * MIN);
    assert.equal(await t.scheduler.tick(), 2);
    assert.deepEqual(await t.drain(), ['a', 'e']);
    assert.equal((await t.state.get('tiered', 'e'))?.emptyStreak, 2);
    assert.equal((await t.state.get('tiered', 'e'))?.dueAt, t.clock.now() + 2 * DAY);
    t.data.set('e', 1); // data appears
    t.clock.advance(2 * DAY);
    await t.scheduler.tick();
    await t.drain();
    const e = await t.state.get('tiered', 'e');
    assert.deepEqual([e?.emptyStreak, e?.dueAt], [0, t.clock.now() + 15 * MIN]);
  });

  it('recomputes tiers from activity and brings the next sync forward', async () => {
    const t = setup();
    t.data.set('u', 1);
    await t.scheduler.enroll('u'); // dormant
    await t.scheduler.tick();
    await t.drain();
    assert.equal((await t.state.get('tiered', 'u'))?.dueAt, t.clock.now() + 7 * DAY);
    await t.state.update('tiered', 'u', { activeAt: t.clock.now() }); // the user opened the app
    assert.equal(await t.scheduler.recomputeTiers(), 1);
    const u = await t.state.get('tiered', 'u');
    assert.deepEqual([u?.tier, u?.dueAt], ['active', t.clock.now() + 15 * MIN]);
    t.clock.advance(40 * DAY);
    assert.equal(await t.scheduler.recomputeTiers(), 1);
    assert.equal((await t.state.get('tiered', 'u'))?.tier, 'dormant');
  });

  it('a scheduler for a job without tiers is refused', () => {
    const { tracing } = collectingTracing();
    const def = { name: 'x', entityType: 'x', fetch: () => undefined, targets: [new VersionedTarget('postgres:x')] };
    assert.throws(() => new Scheduler({ job: def, state: new MemorySyncState(), dispatcher: createDispatcher({ job: def, queue: new MemoryQueue('q'), tracing }) }), /job "x": the job has no tiers/);
  });
});
