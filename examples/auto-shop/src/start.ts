/**
 * `npm start`: `linktrace serve`, then notify-service, order-worker and order-api, each as its own
 * process under `node --import @linktrace/sdk/register` with LINKTRACE_SERVICE and
 * LINKTRACE_ENDPOINT set — nothing else makes them traced. An order is placed every few seconds;
 * the traces and the chain checker's findings are on the server's query API and UI. Ctrl-C stops
 * everything and removes this run's tables, keys and queue.
 */
import { randomBytes } from 'node:crypto';
import { dropRun } from './cleanup.js';
import { startLinktraceServe, startService, type Launched } from './launch.js';

const prefix = process.env['AUTO_SHOP_PREFIX'] ?? `auto_shop_${randomBytes(4).toString('hex')}`;
const server = await startLinktraceServe({
  dataDir: process.env['LINKTRACE_DATA'] ?? 'linktrace-data',
  port: Number(process.env['LINKTRACE_PORT'] ?? '4318'),
  checkDelay: process.env['LINKTRACE_CHECK_DELAY'] ?? '5s',
  echo: true,
  ownGroup: true,
});
const services: Launched[] = [];
let stopping = false;

async function stopAll(): Promise<void> {
  for (const service of services.reverse()) await service.stop(5000);
  await dropRun(prefix).catch((error: unknown) => console.error('auto-shop: cleanup failed:', error));
  await server.stop(10_000);
}

try {
  // Own process groups: Ctrl-C reaches this launcher only, which stops order-api first and
  // linktrace serve last, so in-flight orders finish and every span is delivered.
  const common = { endpoint: server.url!, prefix, echo: true, ownGroup: true };
  const notify = await startService('notify-service', common);
  services.push(notify);
  services.push(await startService('order-worker', { ...common, notifyUrl: notify.url! }));
  services.push(await startService('order-api', common));
} catch (error) {
  console.error('auto-shop: could not start:', error instanceof Error ? error.message : error);
  await stopAll();
  process.exit(1);
}
const api = services.at(-1)!.url!;
console.log(`auto-shop: order-api ${api}; placing an order every 3 s (POST ${api}/orders)`);
console.log(`auto-shop: traces   ${server.url!}/api/v1/traces?service=order-api`);
console.log(`auto-shop: findings ${server.url!}/api/v1/findings`);

const ITEMS = ['teapot', 'kettle', 'mug', 'saucer', 'strainer'];
let placed = 0;
let inFlight: Promise<void> = Promise.resolve();
async function placeOrder(): Promise<void> {
  const item = ITEMS[placed++ % ITEMS.length]!;
  const res = await fetch(`${api}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item, quantity: 1 + (placed % 3) }) });
  console.log(`auto-shop: order of a ${item} -> ${res.status} ${await res.text()}`);
}

const timer = setInterval(() => {
  inFlight = placeOrder().catch((error: unknown) => console.error('auto-shop:', error));
}, 3000);
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  void inFlight.then(stopAll).finally(() => console.log('auto-shop: stopped'));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
