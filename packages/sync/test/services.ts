import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The local services the tests run against; a service that is down fails the test (never a skip). */
export const SERVICES = {
  redis: process.env['LT_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  postgres: process.env['LT_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
  amqp: process.env['LT_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
} as const;

export function prefix(): string {
  return `lts_${randomBytes(4).toString('hex')}`;
}

export async function redisClient(): Promise<Redis> {
  const redis = new Redis(SERVICES.redis, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

export function pgPool(max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: SERVICES.postgres, max });
  pool.on('error', () => undefined);
  return pool;
}

/** Deletes every Redis key of a test prefix. */
export async function dropKeys(redis: Redis, p: string): Promise<void> {
  const keys = await redis.keys(`${p}*`);
  if (keys.length > 0) await redis.del(...keys);
}
