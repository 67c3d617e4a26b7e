import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { it } from 'node:test';
import pg from 'pg';
import { startShopSync } from '../src/start-shop-sync.js';
import { describeShopSync } from './shop-sync-scenarios.js';

// Runs against PostgreSQL, MariaDB, Redis and RabbitMQ on 127.0.0.1; fails (never skips) when one is down.
describeShopSync('real');

it('fails loudly, naming the service, when one is unreachable, and leaves no tables behind', async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  const prefix = `ss_gone_${process.pid}`;
  await assert.rejects(startShopSync({ backends: 'real', real: { prefix, redis: `redis://127.0.0.1:${port}` } }), /Redis is not usable/);
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT tablename FROM pg_tables WHERE tablename LIKE $1', [`${prefix}%`]);
    assert.deepEqual(rows, []);
  } finally {
    await client.end();
  }
});
