import type { Redis } from 'ioredis';
import type { EntityState, SyncStateStore } from './sync-state.js';

export interface RedisSyncStateOptions {
  /** Prefix of every key (default `lt-sync`). */
  prefix?: string;
}

// Takes the due entities and pushes their due time out by the lease in one step, so two schedulers
// never take the same entity.
const CLAIM = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, k in ipairs(keys) do
  redis.call('ZADD', KEYS[1], ARGV[3], k)
  redis.call('HSET', ARGV[4] .. k, 'dueAt', ARGV[3])
end
return keys`;

const NUMBER_FIELDS = ['syncedAt', 'emptyStreak', 'activeAt', 'dueAt'] as const;

/**
 * Sync state in Redis, shared by every worker and scheduler: one hash per entity
 * (`<prefix>:<job>:e:<key>`) and a sorted set of due times (`<prefix>:<job>:due`).
 */
export class RedisSyncState implements SyncStateStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisSyncStateOptions = {},
  ) {
    this.prefix = options.prefix ?? 'lt-sync';
  }

  private entityPrefix(job: string): string {
    return `${this.prefix}:${job}:e:`;
  }

  async get(job: string, key: string): Promise<EntityState | undefined> {
    const h = await this.redis.hgetall(this.entityPrefix(job) + key);
    if (Object.keys(h).length === 0) return undefined;
    return parseState(h);
  }

  async update(job: string, key: string, patch: EntityState): Promise<void> {
    const fields: string[] = [];
    for (const [k, v] of Object.entries(patch)) {
      // Versions keep their type (a number stays a number) through JSON.
      if (v !== undefined) fields.push(k, k === 'version' ? JSON.stringify(v) : String(v));
    }
    if (fields.length === 0) return;
    const multi = this.redis.multi().hset(this.entityPrefix(job) + key, ...fields);
    if (patch.dueAt !== undefined) multi.zadd(`${this.prefix}:${job}:due`, patch.dueAt, key);
    const results = await multi.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0]!;
  }

  async claimDue(job: string, now: number, limit: number, leaseMs: number): Promise<string[]> {
    const keys = (await this.redis.eval(CLAIM, 1, `${this.prefix}:${job}:due`, now, Math.max(0, Math.floor(limit)), now + leaseMs, this.entityPrefix(job))) as string[];
    return keys;
  }

  async scan(job: string, fn: (key: string, state: EntityState) => Promise<void> | void): Promise<void> {
    const prefix = this.entityPrefix(job);
    let cursor = '0';
    do {
      const [next, names] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const name of names) {
        const h = await this.redis.hgetall(name);
        if (Object.keys(h).length > 0) await fn(name.slice(prefix.length), parseState(h));
      }
    } while (cursor !== '0');
  }

  /** Deletes every key of this job (tests, benches). */
  async clear(job: string): Promise<void> {
    await this.redis.del(`${this.prefix}:${job}:due`);
    await this.scan(job, async (key) => {
      await this.redis.del(this.entityPrefix(job) + key);
    });
  }
}

function parseState(h: Record<string, string>): EntityState {
  const s: EntityState = {};
  for (const k of NUMBER_FIELDS) {
    const v = h[k];
    if (v !== undefined && v !== '' && Number.isFinite(Number(v))) s[k] = Number(v);
  }
  if (h['tier'] !== undefined && h['tier'] !== '') s.tier = h['tier'];
  if (h['version'] !== undefined) {
    try {
      const v = JSON.parse(h['version']) as unknown;
      if (typeof v === 'number' || typeof v === 'string') s.version = v;
    } catch {
      // A field written by hand: taken as the string it is.
      s.version = h['version'];
    }
  }
  return s;
}
