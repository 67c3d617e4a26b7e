/**
 * Removes what one run created: its PostgreSQL and MariaDB tables, its Redis keys and its queue.
 * The services create these on start (idempotently) and leave them, as services do; whoever
 * started the run (`npm start`, the test) removes them.
 */
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { DEFAULTS, namesOf } from './config.js';

export async function dropRun(prefix: string, urls: { postgres?: string; mysql?: string; redis?: string; amqp?: string } = {}): Promise<void> {
  const names = namesOf(prefix);
  const pgClient = new pg.Client({ connectionString: urls.postgres ?? DEFAULTS.postgres });
  await pgClient.connect();
  try {
    await pgClient.query(`DROP TABLE IF EXISTS ${names.ordersTable}`);
  } finally {
    await pgClient.end();
  }
  const my = await mysql.createConnection({ uri: urls.mysql ?? DEFAULTS.mysql });
  try {
    await my.query(`DROP TABLE IF EXISTS ${names.shipmentsTable}`);
  } finally {
    await my.end();
  }
  const redis = new Redis(urls.redis ?? DEFAULTS.redis, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
  const connection = await amqp.connect(urls.amqp ?? DEFAULTS.amqp);
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(names.queue);
  } finally {
    await connection.close();
  }
}
