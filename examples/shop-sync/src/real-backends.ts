import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { amqpQueue, RedisLocks, RedisSyncState } from '@linktrace/sync';
import type { Backends, ShopCache, ShopRow, ShopStore, UserShopStore } from './backends.js';

/** Where the real services live; the defaults are the local services of a development machine. */
export interface RealBackendOptions {
  postgres?: string;
  mysql?: string;
  redis?: string;
  amqp?: string;
  /** Prefix of every table, key and queue this run creates (default: random), so runs never collide. */
  prefix?: string;
}

export const REAL_DEFAULTS = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
  redis: 'redis://127.0.0.1:6379',
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
} as const;

/**
 * Connects to PostgreSQL, MariaDB, Redis and RabbitMQ and creates this run's tables and queue.
 * Rejects (naming the service) when one is unreachable: a demo against real services must not
 * quietly fall back to stand-ins.
 */
export async function realBackends(options: RealBackendOptions = {}): Promise<Backends> {
  const prefix = options.prefix ?? `ss_${randomBytes(4).toString('hex')}`;
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    const pgPool = new pg.Pool({ connectionString: options.postgres ?? REAL_DEFAULTS.postgres, max: 4 });
    closers.push(() => pgPool.end());
    const shopTable = `${prefix}_shop`;
    await named('PostgreSQL', pgPool.query(`CREATE TABLE ${shopTable} (id text PRIMARY KEY, open boolean NOT NULL, version integer NOT NULL)`));
    closers.push(() => pgPool.query(`DROP TABLE IF EXISTS ${shopTable}`));

    const my = mysql.createPool({ uri: options.mysql ?? REAL_DEFAULTS.mysql, connectionLimit: 4 });
    closers.push(() => my.end());
    const userShopTable = `${prefix}_user_shop`;
    await named('MariaDB', my.query(`CREATE TABLE ${userShopTable} (id varchar(64) PRIMARY KEY, open boolean NOT NULL, version int NOT NULL)`));
    closers.push(() => my.query(`DROP TABLE IF EXISTS ${userShopTable}`));

    const redis = new Redis(options.redis ?? REAL_DEFAULTS.redis, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    // Failures reach callers as rejected commands (and connect's rejection); without a listener
    // ioredis would also print each one as an unhandled error event.
    redis.on('error', () => undefined);
    await named('Redis', redis.connect());
    closers.push(() => redis.quit());
    const keyPrefix = `${prefix}:shop:`;
    // The cache's keys and the sync job's locks and state (`<prefix>:sync:…`).
    closers.push(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    });

    const connection = await named('RabbitMQ', amqp.connect(options.amqp ?? REAL_DEFAULTS.amqp));
    closers.push(() => connection.close());
    const queueName = `${prefix}.shop-changed`;
    const admin = await connection.createChannel();
    await admin.assertQueue(queueName, { durable: false });
    closers.push(() => admin.deleteQueue(queueName));
    const queue = await amqpQueue({ connection, queue: queueName, durable: false, target: 'mq:shop-changed' });
    closers.push(() => queue.close());

    return {
      kind: 'real',
      shops: new PgShopStore(pgPool, shopTable),
      userShops: new MysqlUserShopStore(my, userShopTable),
      cache: new RedisShopCache(redis, keyPrefix),
      queue,
      locks: new RedisLocks(redis, { prefix: `${prefix}:sync` }),
      state: new RedisSyncState(redis, { prefix: `${prefix}:sync` }),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function named<T>(service: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`shop-sync: ${service} is not usable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

class PgShopStore implements ShopStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {}

  async save(id: string, open: boolean): Promise<ShopRow> {
    const result = await this.pool.query<ShopRow>(
      `INSERT INTO ${this.table} (id, open, version) VALUES ($1, $2, 1)
       ON CONFLICT (id) DO UPDATE SET open = EXCLUDED.open, version = ${this.table}.version + 1
       RETURNING id, open, version`,
      [id, open],
    );
    return result.rows[0]!;
  }

  async get(id: string): Promise<ShopRow | undefined> {
    const result = await this.pool.query<ShopRow>(`SELECT id, open, version FROM ${this.table} WHERE id = $1`, [id]);
    return result.rows[0];
  }
}

class MysqlUserShopStore implements UserShopStore {
  constructor(
    private readonly pool: mysql.Pool,
    private readonly table: string,
  ) {}

  async put(row: ShopRow): Promise<void> {
    await this.pool.execute(
      `INSERT INTO ${this.table} (id, open, version) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE open = VALUES(open), version = VALUES(version)`,
      [row.id, row.open, row.version],
    );
  }

  async get(id: string): Promise<ShopRow | undefined> {
    const [rows] = await this.pool.execute<mysql.RowDataPacket[]>(`SELECT id, open, version FROM ${this.table} WHERE id = ?`, [id]);
    const row = rows[0];
    return row === undefined ? undefined : { id: String(row['id']), open: Boolean(row['open']), version: Number(row['version']) };
  }
}

class RedisShopCache implements ShopCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async put(row: ShopRow): Promise<void> {
    await this.redis.set(this.prefix + row.id, JSON.stringify(row));
  }

  async get(id: string): Promise<ShopRow | undefined> {
    const text = await this.redis.get(this.prefix + id);
    return text === null ? undefined : (JSON.parse(text) as ShopRow);
  }
}
