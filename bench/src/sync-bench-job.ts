/**
 * The job bench:sync runs: source and target in Redis (hashes `<p>:src` and `<p>:copy`), so the
 * bench measures the toolkit, RabbitMQ and the locks rather than a database. The target's write is
 * one script that applies only a newer version and counts every applied write per entity version
 * (`<p>:writes`, field `key@version`): the bench reads back "writes per entity version" from there.
 */
import type { Redis } from 'ioredis';
import type { SyncJobDefinition, TierPolicy } from '@linktrace/sync';

const WRITE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if cur >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[1] .. '@' .. ARGV[2], 1)
return 1`;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const BENCH_TIERS: TierPolicy = {
  tiers: [
    { name: 'active', periodMs: 15 * MIN, activeWithinMs: DAY },
    { name: 'occasional', periodMs: 6 * HOUR, activeWithinMs: 30 * DAY },
    { name: 'dormant', periodMs: 7 * DAY },
  ],
};

/** Share of entities per tier (active, occasional, dormant) and share of demand triggers they get. */
export const TIER_SHARE = [0.1, 0.3, 0.6] as const;
export const TRIGGER_SHARE = [0.7, 0.25, 0.05] as const;

export function benchJob(redis: Redis, p: string, onFetch: () => void): SyncJobDefinition<number> {
  return {
    name: 'bench-sync',
    entityType: 'account',
    fetch: async (key) => {
      onFetch();
      const v = await redis.hget(`${p}:src`, key);
      return v === null ? undefined : { version: Number(v), data: Number(v) };
    },
    targets: [
      {
        name: 'redis:bench_copy',
        version: async (key) => {
          const v = await redis.hget(`${p}:copy`, key);
          return v === null ? undefined : Number(v);
        },
        write: async (key, record) => ((await redis.eval(WRITE, 2, `${p}:copy`, `${p}:writes`, key, record.version)) === 1 ? 'written' : 'exists'),
      },
    ],
    // The storm lasts minutes: one window covers it, as a user opening the app twice in a minute would.
    recentWindowMs: 30 * MIN,
    lockTtlMs: 10_000,
    retry: { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 5000 },
    tiers: BENCH_TIERS,
  };
}
