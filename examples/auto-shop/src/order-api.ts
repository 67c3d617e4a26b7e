/**
 * order-api: takes orders over HTTP. `POST /orders` stores the order in PostgreSQL, caches it in
 * Redis and publishes it to RabbitMQ for order-worker; `GET /orders/:id` answers from the cache,
 * falling back to PostgreSQL. A plain service: it contains no tracing code at all.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { namesOf, readConfig } from './config.js';
import { BadRequest, closeGracefully, listen, onShutdown, readJsonObject, sendError, sendJson, usable } from './http-json.js';

const SERVICE = 'order-api';

interface Order {
  id: number;
  item: string;
  quantity: number;
}

const config = readConfig();
const names = namesOf(config.prefix);

const db = new pg.Pool({ connectionString: config.postgres, max: 4 });
await usable('PostgreSQL', db.query(`CREATE TABLE IF NOT EXISTS ${names.ordersTable} (id serial PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`));

const cache = new Redis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
// Failed commands reject their callers; without a listener ioredis would also print each error.
cache.on('error', () => undefined);
await usable('Redis', cache.connect());

const broker = await usable('RabbitMQ', amqp.connect(config.amqp));
// A confirm channel: an order is acknowledged to the client only once the broker has the message.
const channel = await broker.createConfirmChannel();
await channel.assertQueue(names.queue, { durable: false });

function parseOrder(body: Record<string, unknown>): Omit<Order, 'id'> {
  const { item, quantity } = body;
  if (typeof item !== 'string' || item.length === 0 || item.length > 100) throw new BadRequest('item must be a string of 1 to 100 characters');
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 1000) throw new BadRequest('quantity must be an integer from 1 to 1000');
  return { item, quantity };
}

async function createOrder(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { item, quantity } = parseOrder(await readJsonObject(req));
  const { rows } = await db.query<{ id: number }>(`INSERT INTO ${names.ordersTable} (item, quantity) VALUES ($1, $2) RETURNING id`, [item, quantity]);
  const order: Order = { id: rows[0]!.id, item, quantity };
  await cache.set(names.cacheKey(order.id), JSON.stringify(order), 'EX', 3600);
  channel.sendToQueue(names.queue, Buffer.from(JSON.stringify(order)), { contentType: 'application/json' });
  await channel.waitForConfirms();
  sendJson(res, 201, order);
}

async function getOrder(id: number, res: ServerResponse): Promise<void> {
  const cached = await cache.get(names.cacheKey(id));
  if (cached !== null) {
    sendJson(res, 200, JSON.parse(cached) as Order);
    return;
  }
  const { rows } = await db.query<Order>(`SELECT id, item, quantity FROM ${names.ordersTable} WHERE id = $1`, [id]);
  if (rows[0] === undefined) sendJson(res, 404, { error: `no order ${id}` });
  else sendJson(res, 200, rows[0]);
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const byId = /^\/orders\/(\d{1,9})$/.exec(path);
  let work: Promise<void>;
  if (req.method === 'POST' && path === '/orders') work = createOrder(req, res);
  else if (req.method === 'GET' && byId !== null) work = getOrder(Number(byId[1]), res);
  else if (req.method === 'GET' && path === '/healthz') work = Promise.resolve(sendJson(res, 200, { ok: true }));
  else work = Promise.resolve(sendJson(res, 404, { error: `no route ${req.method ?? ''} ${path}` }));
  work.catch((error: unknown) => sendError(res, error, SERVICE));
});

await listen(server, config.host, config.port, SERVICE);

onShutdown(SERVICE, async () => {
  await closeGracefully(server);
  await channel.close();
  await broker.close();
  await cache.quit();
  await db.end();
});
