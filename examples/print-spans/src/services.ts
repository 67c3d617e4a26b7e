import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { consoleExporter, createTracing, type SpanExporter, type Tracing } from '@linktrace/sdk';

/**
 * A merchant closes a shop: merchant-api writes the change to its store, then notifies shop-query
 * over HTTP, which writes it to its cache. Each service has its own Tracing (as two processes would);
 * the trace context travels in the HTTP headers.
 */
export interface Demo {
  merchantUrl: string;
  merchant: Tracing;
  shopQuery: Tracing;
  close(): Promise<void>;
}

export async function startDemo(exporter: () => SpanExporter = () => consoleExporter()): Promise<Demo> {
  const shopQuery = createTracing({ service: 'shop-query', exporter: exporter() });
  const merchant = createTracing({ service: 'merchant-api', exporter: exporter() });
  const shopCache = new Map<string, { open: boolean; version: number }>();
  const merchantDb = new Map<string, { open: boolean; version: number }>();

  const queryTracer = shopQuery.getTracer('shop-query');
  const queryServer = createServer((req, res) => {
    const parent = shopQuery.extract(req.headers);
    void queryTracer.trace(`${req.method} /shops/:id/changed`, { kind: 'server', parent }, async (span) => {
      const body = JSON.parse(await readBody(req)) as { id: string; open: boolean; version: number };
      span.setAttributes({ 'linktrace.stage': 'receive', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': body.id, 'linktrace.entity.version': body.version });
      queryTracer.trace('cache write', { attributes: { 'linktrace.stage': 'write', 'linktrace.target': 'memory:shop_cache', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': body.id, 'linktrace.entity.version': body.version } }, () => {
        shopCache.set(body.id, { open: body.open, version: body.version });
      });
      res.writeHead(204).end();
    });
  });
  const queryUrl = await listen(queryServer);

  const merchantTracer = merchant.getTracer('merchant-api');
  let version = 0;
  const merchantServer = createServer((req, res) => {
    const parent = merchant.extract(req.headers);
    void merchantTracer.trace(`${req.method} /shops/:id/close`, { kind: 'server', parent }, async (span) => {
      const id = (req.url ?? '').split('/')[2] ?? 'unknown';
      const change = { id, open: false, version: ++version };
      span.setAttributes({ 'shop.id': id, 'linktrace.stage': 'receive', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': id, 'linktrace.entity.version': change.version });
      merchantTracer.trace('db write', { attributes: { 'linktrace.stage': 'write', 'linktrace.target': 'memory:merchant_db', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': id, 'linktrace.entity.version': change.version } }, () => {
        merchantDb.set(id, { open: change.open, version: change.version });
      });
      await merchantTracer.trace('notify shop-query', { kind: 'client', attributes: { 'linktrace.stage': 'write', 'linktrace.target': 'http:shop-query', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': id, 'linktrace.entity.version': change.version } }, () =>
        post(`${queryUrl}/shops/${id}/changed`, JSON.stringify(change), merchant),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(change));
    });
  });
  const merchantUrl = await listen(merchantServer);

  return {
    merchantUrl,
    merchant,
    shopQuery,
    async close() {
      await Promise.all([closeServer(merchantServer), closeServer(queryServer)]);
      await Promise.all([merchant.shutdown(), shopQuery.shutdown()]);
    },
  };
}

/** One client request: close shop `id`. */
export function closeShop(demo: Demo, id: string): Promise<string> {
  return post(`${demo.merchantUrl}/shops/${id}/close`, '', undefined);
}

function post(url: string, body: string, tracing: Tracing | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    tracing?.inject(headers);
    const req = request(url, { method: 'POST', headers }, (res) => {
      readBody(res).then(resolve, reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function readBody(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
