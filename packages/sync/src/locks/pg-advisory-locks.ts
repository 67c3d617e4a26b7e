import type pg from 'pg';
import { LeaseState, type EntityLocks, type LockLease } from './entity-lock.js';

export interface PgAdvisoryLocksOptions {
  /** Name of the sequence that hands out fencing tokens (created if missing). Default `lt_sync_fence`. */
  fenceSequence?: string;
}

/**
 * PostgreSQL session advisory locks. A held lock keeps one pooled connection until released (size
 * the pool for the worker's concurrency); the lock dies with its session, so a crashed worker
 * frees it at once. A connection that errors or ends marks the lease lost; `confirm()` runs a query
 * on it. Fences come from a sequence.
 */
export class PgAdvisoryLocks implements EntityLocks {
  private readonly sequence: string;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    options: PgAdvisoryLocksOptions = {},
  ) {
    this.sequence = options.fenceSequence ?? 'lt_sync_fence';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.sequence)) throw new TypeError(`fenceSequence must be a plain SQL name, got ${this.sequence}`);
  }

  async acquire(name: string): Promise<LockLease | undefined> {
    this.ready ??= this.pool.query(`CREATE SEQUENCE IF NOT EXISTS ${this.sequence}`).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    await this.ready;
    const client = await this.pool.connect();
    const id = lockId(name);
    let rows: { ok: boolean; fence: string | null }[];
    try {
      ({ rows } = await client.query<{ ok: boolean; fence: string | null }>(
        `SELECT ok, CASE WHEN ok THEN nextval('${this.sequence}') END AS fence FROM (SELECT pg_try_advisory_lock($1::bigint) AS ok) t`,
        [id],
      ));
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    if (rows[0]?.ok !== true) {
      client.release();
      return undefined;
    }
    const state = new LeaseState();
    const onError = (error: Error): void => state.lose(`connection failed: ${error.message}`);
    const onEnd = (): void => state.lose('connection ended');
    client.on('error', onError);
    client.on('end', onEnd);
    let released = false;
    return {
      fence: Number(rows[0].fence),
      get lost() {
        return state.lost;
      },
      get signal() {
        return state.signal;
      },
      onLost: (fn) => state.onLost(fn),
      confirm: async () => {
        if (state.lost) return false;
        try {
          // The lock is ours while this session lives and still lists it.
          const u = BigInt.asUintN(64, BigInt(id));
          const r = await client.query(
            'SELECT 1 FROM pg_locks WHERE locktype = $1 AND pid = pg_backend_pid() AND granted AND classid = $2::oid AND objid = $3::oid AND objsubid = 1',
            ['advisory', (u >> 32n).toString(), (u & 0xffffffffn).toString()],
          );
          if (r.rowCount === 0) state.lose('the advisory lock is no longer held');
        } catch (error) {
          state.lose(`connection failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        return !state.lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        const wasLost = state.lost;
        state.lose('released');
        client.off('error', onError);
        client.off('end', onEnd);
        if (wasLost) {
          client.release(true);
          return;
        }
        try {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]);
          client.release();
        } catch {
          client.release(true); // a broken session: dropping it frees the lock
        }
      },
    };
  }
}

/** A signed 64-bit id of a lock name (FNV-1a 64), as pg_try_advisory_lock(bigint) takes. */
export function lockId(name: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(name, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return BigInt.asIntN(64, h).toString();
}
