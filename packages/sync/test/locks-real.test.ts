import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createSyncJob, lockId, PgAdvisoryLocks, RedisLocks, RedisSyncState, SKIP } from '../src/index.js';
import { collectingTracing, findings, rules, stagesOf, VersionedTarget } from './helpers.js';
import { dropKeys, pgPool, prefix, redisClient } from './services.js';

describe('Redis locks with fencing tokens (real Redis)', () => {
  let redis: Redis;
  const p = prefix();
  before(async () => {
    redis = await redisClient();
  });
  after(async () => {
    await dropKeys(redis, p);
    redis.disconnect();
  });

  it('one holder at a time; fences grow; a release frees the lock', async () => {
    const a = new RedisLocks(redis, { prefix: p });
    const b = new RedisLocks(redis, { prefix: p });
    const first = await a.acquire('shop:1', 5000);
    assert.ok(first);
    assert.equal(await b.acquire('shop:1', 5000), undefined);
    const other = await b.acquire('shop:2', 5000);
    assert.ok(other && other.fence > first.fence);
    await first.release();
    const again = await b.acquire('shop:1', 5000);
    assert.ok(again && again.fence > other.fence);
    assert.equal(first.lost, true, 'a released lease is no longer usable');
    await other.release();
    await again.release();
  });

  it('a lease taken over is found lost by confirm() and by the renewal', async () => {
    const locks = new RedisLocks(redis, { prefix: p });
    const lease = (await locks.acquire('shop:3', 5000))!;
    assert.equal(await lease.confirm(), true);
    await redis.set(locks.keyOf('shop:3'), 'someone-else:999', 'PX', 5000);
    assert.equal(await lease.confirm(), false);
    assert.equal(lease.lost, true);
    assert.equal(lease.signal.aborted, true);
    const renewed = (await locks.acquire('shop:4', 60))!;
    await redis.del(locks.keyOf('shop:4'));
    for (let i = 0; i < 200 && !renewed.lost; i++) await delay(10);
    assert.equal(renewed.lost, true, 'the renewal (every ttl/3) noticed');
    await lease.release();
    await renewed.release();
    assert.equal(await redis.get(locks.keyOf('shop:3')), 'someone-else:999', 'a lost lease never deletes the new holder');
  });

  it('Redis going away mid-run: the run is abandoned before writing (lock lost, retried); the next run fails its receive (stage-error)', async () => {
    const own = await redisClient();
    const locks = new RedisLocks(own, { prefix: p });
    const { tracing, collector } = collectingTracing();
    const target = new VersionedTarget<number>('postgres:copy');
    const job = createSyncJob<number>(
      {
        name: 'gone',
        entityType: 'item',
        fetch: () => {
          own.disconnect(); // the lock service goes away while we fetch
          return { version: 1, data: 1 };
        },
        targets: [target],
      },
      { tracing, locks },
    );
    const first = await job.run({ key: 'k', reason: 'event', at: Date.now() });
    assert.deepEqual([first.status, first.reason, first.retry], ['skipped', SKIP.lockLost, true]);
    assert.deepEqual(target.log, []);
    assert.deepEqual(stagesOf(collector.spans), ['process', `skip (${SKIP.lockLost})`, 'receive']);
    const second = await job.run({ key: 'k', reason: 'event', at: Date.now() });
    assert.deepEqual([second.status, second.retry], ['failed', true]);
    assert.match(second.reason!, /^lock service unavailable: /);
    assert.deepEqual(rules(findings(collector)), ['stage-error sync-worker']);
  });
});

describe('PostgreSQL advisory locks (real PostgreSQL)', () => {
  let a: pg.Pool;
  let b: pg.Pool;
  const seq = `${prefix()}_fence`;
  before(() => {
    a = pgPool();
    b = pgPool();
  });
  after(async () => {
    await a.query(`DROP SEQUENCE IF EXISTS ${seq}`);
    await a.end();
    await b.end();
  });

  it('one holder across pools; fences grow; release frees it', async () => {
    const la = new PgAdvisoryLocks(a, { fenceSequence: seq });
    const lb = new PgAdvisoryLocks(b, { fenceSequence: seq });
    const held = await la.acquire('shop:1');
    assert.ok(held);
    assert.equal(await lb.acquire('shop:1'), undefined);
    assert.equal(await held.confirm(), true);
    await held.release();
    const next = await lb.acquire('shop:1');
    assert.ok(next && next.fence > held.fence);
    await next.release();
  });

  it('a session that is killed loses the lock: confirm() says so and the lock is free for others', async () => {
    const la = new PgAdvisoryLocks(a, { fenceSequence: seq });
    const lb = new PgAdvisoryLocks(b, { fenceSequence: seq });
    const held = (await la.acquire('shop:2'))!;
    // Only the session holding this test's lock (other programs may hold advisory locks too).
    const u = BigInt.asUintN(64, BigInt(lockId('shop:2')));
    const { rows } = await b.query<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid AND objid = $2::oid AND objsubid = 1", [
      (u >> 32n).toString(),
      (u & 0xffffffffn).toString(),
    ]);
    assert.equal(rows.length, 1);
    for (const { pid } of rows) await b.query('SELECT pg_terminate_backend($1)', [pid]);
    assert.equal(await held.confirm(), false);
    assert.equal(held.lost, true);
    const taken = await lb.acquire('shop:2');
    assert.ok(taken, 'the dead session freed it');
    await taken.release();
    await held.release();
  });

  it('refuses a fence sequence name that is not a plain SQL name', () => {
    assert.throws(() => new PgAdvisoryLocks(a, { fenceSequence: 'x; DROP TABLE y' }), /fenceSequence must be a plain SQL name/);
  });
});

describe('Redis sync state (real Redis)', () => {
  let redis: Redis;
  const p = prefix();
  before(async () => {
    redis = await redisClient();
  });
  after(async () => {
    await dropKeys(redis, p);
    redis.disconnect();
  });

  it('keeps version types, claims each due entity once, and scans them all', async () => {
    const s1 = new RedisSyncState(redis, { prefix: p });
    const s2 = new RedisSyncState(redis, { prefix: p });
    await s1.update('j', 'a', { version: 7, syncedAt: 100, tier: 'active', dueAt: 50 });
    await s1.update('j', 'b', { version: '2024-05-01T00:00:00Z', dueAt: 60 });
    await s1.update('j', 'c', { dueAt: 500 });
    assert.deepEqual(await s2.get('j', 'a'), { version: 7, syncedAt: 100, tier: 'active', dueAt: 50 });
    assert.equal((await s2.get('j', 'b'))?.version, '2024-05-01T00:00:00Z');
    assert.equal(await s2.get('j', 'none'), undefined);
    const [x, y] = await Promise.all([s1.claimDue('j', 100, 10, 1000), s2.claimDue('j', 100, 10, 1000)]);
    assert.deepEqual([...x, ...y].sort(), ['a', 'b'], 'each due entity taken by one scheduler');
    assert.equal((await s1.get('j', 'a'))?.dueAt, 1100);
    const seen: string[] = [];
    await s1.scan('j', (k) => void seen.push(k));
    assert.deepEqual(seen.sort(), ['a', 'b', 'c']);
  });
});
