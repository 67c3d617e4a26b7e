import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTR } from '@linktrace/model';
import { createSyncJob, MemoryLocks, MemorySyncState, SKIP, type EntityLocks, type SourceRecord, type SyncJobDefinition } from '../src/index.js';
import { collectingTracing, findings, ManualClock, rules, stagesOf, VersionedTarget } from './helpers.js';

interface Shop {
  open: boolean;
}

function setup(overrides: Partial<SyncJobDefinition<Shop>> = {}, locks?: EntityLocks) {
  const { tracing, collector } = collectingTracing();
  const clock = new ManualClock();
  const source = new Map<string, SourceRecord<Shop> | undefined>();
  let fetches = 0;
  const a = new VersionedTarget<Shop>('postgres:user_shop');
  const b = new VersionedTarget<Shop>('redis:shop_cache');
  const state = new MemorySyncState();
  const job = createSyncJob<Shop>(
    {
      name: 'shop-sync',
      entityType: 'shop',
      fetch: (key) => {
        fetches++;
        return source.get(key);
      },
      targets: [a, b],
      recentWindowMs: 60_000,
      ...overrides,
    },
    { tracing, clock, state, locks },
  );
  return { job, source, a, b, clock, collector, state, fetches: () => fetches };
}

describe('a sync run', () => {
  it('is one receive → process → write per target chain with the entity on every span, and checks clean', async () => {
    const t = setup();
    t.source.set('42', { version: 7, data: { open: true } });
    const outcome = await t.job.run({ key: '42', reason: 'event', version: 7, at: t.clock.now() });
    assert.equal(outcome.status, 'written');
    assert.deepEqual(outcome.written, ['postgres:user_shop', 'redis:shop_cache']);
    assert.deepEqual(stagesOf(t.collector.spans), ['process', 'write postgres:user_shop', 'write redis:shop_cache', 'receive']);
    for (const s of t.collector.spans) {
      assert.equal(s.attributes[ATTR.entityType], 'shop');
      assert.equal(s.attributes[ATTR.entityKey], '42');
      assert.equal(s.attributes[ATTR.entityVersion], 7);
      assert.equal(s.traceId, t.collector.spans[0]!.traceId);
    }
    const receive = t.collector.spans.find((s) => s.attributes[ATTR.stage] === 'receive')!;
    assert.equal(receive.attributes['linktrace.sync.job'], 'shop-sync');
    for (const s of t.collector.spans) if (s !== receive) assert.equal(s.parentSpanId, receive.spanId);
    assert.deepEqual(t.a.log, ['42@7']);
    assert.deepEqual(findings(t.collector), []);
    assert.deepEqual(await t.state.get('shop-sync', '42'), { syncedAt: t.clock.now(), version: 7, emptyStreak: 0 });
  });

  it('sets the version it fetched when the trigger named none', async () => {
    const t = setup();
    t.source.set('9', { version: 3, data: { open: false } });
    await t.job.run({ key: '9', reason: 'demand', at: t.clock.now() });
    for (const s of t.collector.spans) assert.equal(s.attributes[ATTR.entityVersion], 3, s.name);
  });

  it('skips a repeat without calling the source: already synced, recently synced; after the window the targets are up to date', async () => {
    const t = setup();
    t.source.set('1', { version: 2, data: { open: true } });
    await t.job.run({ key: '1', reason: 'event', version: 2, at: t.clock.now() });
    t.collector.clear();
    assert.equal((await t.job.run({ key: '1', reason: 'event', version: 2, at: t.clock.now() })).reason, SKIP.alreadySynced);
    assert.equal((await t.job.run({ key: '1', reason: 'event', version: 1, at: t.clock.now() })).reason, SKIP.alreadySynced);
    t.clock.advance(59_000);
    assert.equal((await t.job.run({ key: '1', reason: 'demand', at: t.clock.now() })).reason, SKIP.recentlySynced);
    assert.equal(t.fetches(), 1);
    t.clock.advance(2_000);
    const late = await t.job.run({ key: '1', reason: 'demand', at: t.clock.now() });
    assert.equal(t.fetches(), 2);
    assert.equal(late.status, 'skipped');
    assert.deepEqual(late.upToDate, ['postgres:user_shop', 'redis:shop_cache']);
    assert.deepEqual(t.a.log, ['1@2']);
    assert.deepEqual(findings(t.collector), [], 'a skip is a complete chain');
  });

  it('a newer version goes through the window; resync goes through it too and only writes what is behind', async () => {
    const t = setup();
    t.source.set('1', { version: 1, data: { open: true } });
    await t.job.run({ key: '1', reason: 'event', version: 1, at: t.clock.now() });
    t.source.set('1', { version: 2, data: { open: false } });
    assert.equal((await t.job.run({ key: '1', reason: 'event', version: 2, at: t.clock.now() })).status, 'written');
    t.b.rows.delete('1'); // the cache lost it
    t.collector.clear();
    const repaired = await t.job.resync('1');
    assert.deepEqual(repaired.written, ['redis:shop_cache']);
    assert.deepEqual(repaired.upToDate, ['postgres:user_shop']);
    assert.deepEqual(stagesOf(t.collector.spans), ['process', 'skip postgres:user_shop (up to date)', 'write redis:shop_cache', 'receive']);
    assert.deepEqual(findings(t.collector), []);
  });

  it('an empty source is a skip and counts towards the backoff', async () => {
    const t = setup();
    const outcome = await t.job.run({ key: 'x', reason: 'schedule', at: t.clock.now() });
    assert.deepEqual([outcome.status, outcome.reason, outcome.retry], ['skipped', SKIP.empty, false]);
    assert.equal((await t.state.get('shop-sync', 'x'))?.emptyStreak, 1);
    assert.deepEqual(stagesOf(t.collector.spans), ['process', `skip (${SKIP.empty})`, 'receive']);
    assert.deepEqual(findings(t.collector), []);
  });
});

describe('bad input', () => {
  it('garbage from the source: no version, or refused by validate, is a skip with the detail', async () => {
    const t = setup({ validate: (d) => (typeof (d as Shop | undefined)?.open === 'boolean' ? true : 'open must be a boolean') });
    t.source.set('g1', { data: { open: true } } as unknown as SourceRecord<Shop>);
    t.source.set('g2', { version: 3, data: { open: 'yes' } } as unknown as SourceRecord<Shop>);
    t.source.set('g3', 'text' as unknown as SourceRecord<Shop>);
    for (const [key, detail] of [['g1', 'the record has no valid version'], ['g2', 'open must be a boolean'], ['g3', 'the record has no valid version']] as const) {
      const outcome = await t.job.run({ key, reason: 'event', at: t.clock.now() });
      assert.deepEqual([outcome.status, outcome.reason], ['skipped', SKIP.invalid], key);
      const skip = t.collector.spans.find((s) => s.attributes[ATTR.entityKey] === key && s.attributes[ATTR.stage] === 'skip')!;
      assert.equal(skip.attributes['linktrace.sync.detail'], detail);
    }
    assert.equal(t.a.log.length, 0);
    assert.deepEqual(findings(t.collector), []);
  });

  it('a source that returns a lower version: older than the trigger is retried, older than synced is skipped', async () => {
    const t = setup();
    t.source.set('l', { version: 4, data: { open: true } });
    const lag = await t.job.run({ key: 'l', reason: 'event', version: 5, at: t.clock.now() });
    assert.deepEqual([lag.reason, lag.retry], [SKIP.olderThanTrigger, true]);
    t.source.set('l', { version: 5, data: { open: true } });
    await t.job.run({ key: 'l', reason: 'event', version: 5, at: t.clock.now() });
    t.source.set('l', { version: 3, data: { open: true } });
    const older = await t.job.run({ key: 'l', reason: 'resync', at: t.clock.now() });
    assert.deepEqual([older.reason, older.retry], [SKIP.olderThanSynced, false]);
    assert.deepEqual(t.a.log, ['l@5']);
  });

  it('a source that times out fails the process step (stage-error) and asks for a retry', async () => {
    const t = setup({ fetchTimeoutMs: 20, fetch: (_key, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))) });
    const outcome = await t.job.run({ key: 't', reason: 'event', at: t.clock.now() });
    assert.deepEqual([outcome.status, outcome.retry, outcome.reason], ['failed', true, 'source timed out after 20 ms']);
    assert.deepEqual(stagesOf(t.collector.spans), ['process ERROR', 'receive']);
    assert.deepEqual(rules(findings(t.collector)), ['stage-error sync-worker']);
  });

  it('a target that refuses the write: stage-error there, later targets wait, the retry writes only what is missing', async () => {
    const t = setup();
    t.source.set('r', { version: 1, data: { open: true } });
    t.b.fail = new Error('READONLY You can not write against a read only replica');
    const first = await t.job.run({ key: 'r', reason: 'event', version: 1, at: t.clock.now() });
    assert.deepEqual([first.status, first.retry, first.written], ['failed', true, ['postgres:user_shop']]);
    assert.match(first.reason!, /^redis:shop_cache: READONLY/);
    assert.deepEqual(rules(findings(t.collector)), ['stage-error sync-worker redis:shop_cache']);
    t.b.fail = undefined;
    t.collector.clear();
    const retry = await t.job.run({ key: 'r', reason: 'event', version: 1, at: t.clock.now() });
    assert.deepEqual(retry.written, ['redis:shop_cache']);
    assert.deepEqual([t.a.log, t.b.log], [['r@1'], ['r@1']]);
    assert.deepEqual(findings(t.collector), []);
  });

  it("a target's guard refusing a repeat is a skip (already written), never a second write", async () => {
    const t = setup();
    // No version readers: only the targets' own guards know.
    const a = new VersionedTarget<Shop>('postgres:user_shop');
    const job = createSyncJob<Shop>({ name: 'g', entityType: 'shop', fetch: () => ({ version: 1, data: { open: true } }), targets: [{ name: a.name, write: a.write }] }, { tracing: collectingTracing().tracing });
    const { tracing, collector } = collectingTracing();
    const traced = createSyncJob<Shop>({ ...job.definition }, { tracing });
    await traced.run({ key: 'k', reason: 'event', at: 0 });
    await traced.run({ key: 'k', reason: 'resync', at: 0 });
    assert.deepEqual(a.log, ['k@1']);
    assert.deepEqual(stagesOf(collector.spans).filter((s) => !s.startsWith('process') && s !== 'receive'), ['write postgres:user_shop', 'skip postgres:user_shop (already written)']);
    assert.deepEqual(findings(collector), []);
    void t;
  });

  it('a lock held elsewhere is a skip with a retry; a lock lost mid-run abandons the run before any write', async () => {
    const locks = new MemoryLocks();
    const t = setup(
      {
        fetch: (key) => {
          if (key === 'lost') locks.revoke('shop-sync:lost');
          return { version: 1, data: { open: true } };
        },
      },
      locks,
    );
    const held = await locks.acquire('shop-sync:busy');
    const busy = await t.job.run({ key: 'busy', reason: 'event', at: t.clock.now() });
    assert.deepEqual([busy.reason, busy.retry, busy.fetched], [SKIP.locked, true, false]);
    await held!.release();
    const lost = await t.job.run({ key: 'lost', reason: 'event', at: t.clock.now() });
    assert.deepEqual([lost.status, lost.reason, lost.retry, lost.written], ['skipped', SKIP.lockLost, true, []]);
    assert.deepEqual(t.a.log, []);
    assert.deepEqual(findings(t.collector), []);
  });

  it('a lock service that is down fails the receive (stage-error) and asks for a retry', async () => {
    const t = setup({}, { acquire: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) });
    t.source.set('d', { version: 1, data: { open: true } });
    const outcome = await t.job.run({ key: 'd', reason: 'event', at: t.clock.now() });
    assert.deepEqual([outcome.status, outcome.retry, outcome.fetched], ['failed', true, false]);
    assert.deepEqual(rules(findings(t.collector)), ['stage-error sync-worker']);
    assert.match(findings(t.collector)[0]!.message, /lock service unavailable: connect ECONNREFUSED/);
  });

  it('a state store that is down does not stop the sync (targets guard themselves) and is counted', async () => {
    const { tracing, collector } = collectingTracing();
    const a = new VersionedTarget<Shop>('postgres:user_shop');
    const down = { get: () => Promise.reject(new Error('down')), update: () => Promise.reject(new Error('down')), claimDue: () => Promise.reject(new Error('down')), scan: () => Promise.reject(new Error('down')) };
    const job = createSyncJob<Shop>({ name: 's', entityType: 'shop', fetch: () => ({ version: 1, data: { open: true } }), targets: [a] }, { tracing, state: down });
    assert.equal((await job.run({ key: 'k', reason: 'event', at: 0 })).status, 'written');
    assert.equal(job.counters.stateErrors, 2);
    assert.deepEqual(findings(collector), []);
  });
});

describe('injected faults are found by the chain checks', () => {
  it('drop-write: missing-write; crash: unfinished-span on process', async () => {
    const t = setup();
    t.source.set('d', { version: 1, data: { open: true } });
    const dropped = await t.job.run({ key: 'd', reason: 'event', version: 1, at: t.clock.now() }, { fault: 'drop-write' });
    assert.equal(dropped.status, 'dropped');
    assert.deepEqual(rules(findings(t.collector)), ['missing-write sync-worker']);
    t.collector.clear();
    t.source.set('c', { version: 1, data: { open: true } });
    void t.job.run({ key: 'c', reason: 'event', version: 1, at: t.clock.now() }, { fault: 'crash' });
    await new Promise((r) => setTimeout(r, 20));
    const found = findings(t.collector);
    assert.deepEqual(rules(found), ['unfinished-span sync-worker']);
    assert.equal(found[0]!.spanId, t.collector.startRecords.find((s) => s.attributes[ATTR.stage] === 'process')!.spanId);
  });
});
