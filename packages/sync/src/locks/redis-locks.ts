import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LeaseState, type EntityLocks, type LockLease } from './entity-lock.js';

export interface RedisLocksOptions {
  /** Prefix of the lock keys and the fence counter (default `lt-sync`). */
  prefix?: string;
}

// Takes the lock only when free, with a fence from one counter shared by all locks of the prefix.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return fence`;
// Extends the lease only while the key still holds our value: an expired or taken-over lease stays lost.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Redis locks with fencing tokens. A lease is renewed every third of its TTL while held; a renewal
 * that finds the key gone or someone else's, or that cannot reach Redis before the lease would
 * have expired, marks it lost. `confirm()` asks Redis the same question on demand (a run calls it
 * before writing).
 */
export class RedisLocks implements EntityLocks {
  private readonly prefix: string;
  private readonly owner = randomBytes(8).toString('hex');

  constructor(
    private readonly redis: Redis,
    options: RedisLocksOptions = {},
  ) {
    this.prefix = options.prefix ?? 'lt-sync';
  }

  /** The Redis key of lock `name` (tests take it away to simulate a lost lease). */
  keyOf(name: string): string {
    return `${this.prefix}:lock:${name}`;
  }

  async acquire(name: string, ttlMs: number): Promise<LockLease | undefined> {
    const key = this.keyOf(name);
    const ttl = Math.max(1, Math.round(ttlMs));
    const fence = Number(await this.redis.eval(ACQUIRE, 2, key, `${this.prefix}:fence`, this.owner, ttl));
    if (fence === 0) return undefined;
    const value = `${this.owner}:${fence}`;
    const state = new LeaseState();
    let expiresAt = Date.now() + ttl;
    const renew = async (): Promise<boolean> => {
      if (state.lost) return false;
      const sentAt = Date.now();
      try {
        const ok = Number(await this.redis.eval(RENEW, 1, key, value, ttl)) === 1;
        if (!ok) state.lose('the lease expired or was taken over');
        else expiresAt = sentAt + ttl;
      } catch (error) {
        // Redis unreachable: we cannot prove we hold it, so from here on we do not.
        state.lose(`lock service failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!state.lost && Date.now() > expiresAt) state.lose('the lease expired');
      return !state.lost;
    };
    const timer = setInterval(() => void renew(), Math.max(1, Math.floor(ttl / 3)));
    timer.unref();
    state.onLost(() => clearInterval(timer));
    return {
      fence,
      get lost() {
        return state.lost;
      },
      get signal() {
        return state.signal;
      },
      onLost: (fn) => state.onLost(fn),
      confirm: renew,
      release: async () => {
        clearInterval(timer);
        if (state.lost) return;
        state.lose('released');
        await this.redis.eval(RELEASE, 1, key, value).catch(() => undefined);
      },
    };
  }
}
