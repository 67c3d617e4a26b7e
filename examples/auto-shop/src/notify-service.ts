/**
 * notify-service: the last hop. `POST /notify` records a notification (in memory; a real one would
 * send an e-mail); `GET /notifications` lists them. No tracing code.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readConfig } from './config.js';
import { BadRequest, closeGracefully, listen, onShutdown, readJsonObject, sendError, sendJson } from './http-json.js';

const SERVICE = 'notify-service';
const MAX_KEPT = 1000;

interface Notification {
  orderId: number;
  message: string;
  at: string;
}

const config = readConfig();
const sent: Notification[] = [];

async function notify(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { orderId, message } = await readJsonObject(req);
  if (typeof orderId !== 'number' || !Number.isInteger(orderId)) throw new BadRequest('orderId must be an integer');
  if (typeof message !== 'string' || message.length > 500) throw new BadRequest('message must be a string of at most 500 characters');
  sent.push({ orderId, message, at: new Date().toISOString() });
  if (sent.length > MAX_KEPT) sent.shift();
  res.writeHead(204).end();
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  let work: Promise<void>;
  if (req.method === 'POST' && path === '/notify') work = notify(req, res);
  else if (req.method === 'GET' && path === '/notifications') work = Promise.resolve(sendJson(res, 200, { notifications: sent }));
  else work = Promise.resolve(sendJson(res, 404, { error: `no route ${req.method ?? ''} ${path}` }));
  work.catch((error: unknown) => sendError(res, error, SERVICE));
});

await listen(server, config.host, config.port, SERVICE);

onShutdown(SERVICE, async () => {
  await closeGracefully(server);
});
