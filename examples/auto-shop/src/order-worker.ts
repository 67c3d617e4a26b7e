/**
 * order-worker: consumes orders from RabbitMQ, records a shipment in MariaDB, then tells
 * notify-service over HTTP (fetch). The message is acknowledged once both are done; a message that
 * fails is dropped with a log line (no redelivery loop in a demo). No tracing code here either.
 */
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { namesOf, readConfig } from './config.js';
import { onShutdown, usable } from './http-json.js';

const SERVICE = 'order-worker';

const config = readConfig();
const names = namesOf(config.prefix);

const db = mysql.createPool({ uri: config.mysql, connectionLimit: 4 });
await usable(
  'MariaDB',
  db.query(`CREATE TABLE IF NOT EXISTS ${names.shipmentsTable} (order_id int PRIMARY KEY, item varchar(100) NOT NULL, quantity int NOT NULL, shipped_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)`),
);

const broker = await usable('RabbitMQ', amqp.connect(config.amqp));
const channel = await broker.createChannel();
await channel.assertQueue(names.queue, { durable: false });
await channel.prefetch(8);

interface Order {
  id: number;
  item: string;
  quantity: number;
}

function parseOrder(content: Buffer): Order {
  const value = JSON.parse(content.toString('utf8')) as Partial<Order>;
  if (typeof value.id !== 'number' || typeof value.item !== 'string' || typeof value.quantity !== 'number') throw new Error('not an order');
  return { id: value.id, item: value.item, quantity: value.quantity };
}

async function ship(order: Order): Promise<void> {
  await db.execute(`INSERT INTO ${names.shipmentsTable} (order_id, item, quantity) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE item = VALUES(item), quantity = VALUES(quantity)`, [
    order.id,
    order.item,
    order.quantity,
  ]);
  const res = await fetch(`${config.notifyUrl}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId: order.id, message: `order ${order.id} shipped` }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`notify-service answered ${res.status}`);
}

/** Orders being shipped, so that a shutdown lets them finish before the channel closes. */
const inFlight = new Set<Promise<void>>();

function settle(how: 'ack' | 'drop', msg: amqp.ConsumeMessage): void {
  try {
    if (how === 'ack') channel.ack(msg);
    else channel.nack(msg, false, false);
  } catch (error) {
    // The channel closed under us: the broker requeues the message by itself.
    console.error(`${SERVICE}: could not settle a message:`, error);
  }
}

const { consumerTag } = await channel.consume(names.queue, (msg) => {
  if (msg === null) return; // the broker cancelled the consumer (queue deleted)
  let order: Order;
  try {
    order = parseOrder(msg.content);
  } catch (error) {
    console.error(`${SERVICE}: dropping a malformed message:`, error);
    settle('drop', msg);
    return;
  }
  const work = ship(order).then(
    () => settle('ack', msg),
    (error: unknown) => {
      console.error(`${SERVICE}: order ${order.id} failed, dropped:`, error);
      settle('drop', msg);
    },
  );
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work));
});
console.log(`${SERVICE}: consuming ${names.queue}`);

onShutdown(SERVICE, async () => {
  await channel.cancel(consumerTag);
  await Promise.allSettled(inFlight);
  await channel.close();
  await broker.close();
  await db.end();
});
