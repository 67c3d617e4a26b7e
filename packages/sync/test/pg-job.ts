import type pg from 'pg';
import type { SyncJobDefinition } from '../src/index.js';

/**
 * The job the multi-process tests run: source table `<p>_source`, targets `<p>_a` and `<p>_b`.
 * Each target write is one statement that applies only a newer version from a holder with a fence
 * no lower than the last one (the unique-key guard) and logs the applied write in `<p>_writes` in
 * the same statement, so a repeat is never applied and never logged.
 */
export async function createTables(pool: pg.Pool, p: string): Promise<void> {
  await pool.query(`CREATE TABLE ${p}_source (key text PRIMARY KEY, version integer NOT NULL, data text NOT NULL)`);
  for (const t of ['a', 'b']) await pool.query(`CREATE TABLE ${p}_${t} (key text PRIMARY KEY, version integer NOT NULL, data text NOT NULL, fence bigint NOT NULL)`);
  await pool.query(`CREATE TABLE ${p}_writes (target text NOT NULL, key text NOT NULL, version integer NOT NULL, worker text NOT NULL)`);
}

export async function dropTables(pool: pg.Pool, p: string): Promise<void> {
  for (const t of ['source', 'a', 'b', 'writes']) await pool.query(`DROP TABLE IF EXISTS ${p}_${t}`);
  await pool.query(`DROP SEQUENCE IF EXISTS ${p}_fence`);
}

export interface PgJobHooks {
  /** Called before the write to target b; may block (a worker that stalls mid-sync). */
  beforeWriteB?(key: string): Promise<void>;
  /** Called in fetch. */
  onFetch?(key: string): Promise<void>;
}

export function pgJob(pool: pg.Pool, p: string, worker: string, hooks: PgJobHooks = {}): SyncJobDefinition<string> {
  const target = (t: 'a' | 'b') => ({
    name: `postgres:${p}_${t}`,
    version: async (key: string) => (await pool.query<{ version: number }>(`SELECT version FROM ${p}_${t} WHERE key = $1`, [key])).rows[0]?.version,
    write: async (key: string, record: { version: number | string; data: string }, ctx: { fence: number }) => {
      if (t === 'b') await hooks.beforeWriteB?.(key);
      const r = await pool.query(
        `WITH up AS (
           INSERT INTO ${p}_${t} AS t (key, version, data, fence) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, fence = EXCLUDED.fence
           WHERE t.version < EXCLUDED.version AND t.fence <= EXCLUDED.fence
           RETURNING key)
         INSERT INTO ${p}_writes (target, key, version, worker) SELECT $5, $1, $2, $6 FROM up`,
        [key, record.version, record.data, ctx.fence, t, worker],
      );
      return r.rowCount === 1 ? ('written' as const) : ('exists' as const);
    },
  });
  return {
    name: `${p}-job`,
    entityType: 'account',
    fetch: async (key) => {
      await hooks.onFetch?.(key);
      const row = (await pool.query<{ version: number; data: string }>(`SELECT version, data FROM ${p}_source WHERE key = $1`, [key])).rows[0];
      return row === undefined ? undefined : { version: row.version, data: row.data };
    },
    validate: (data) => typeof data === 'string' || 'data must be text',
    targets: [target('a'), target('b')],
    recentWindowMs: 60_000,
    lockTtlMs: 1500,
    retry: { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 2000 },
  };
}
