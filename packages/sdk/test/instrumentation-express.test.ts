import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type ExpressFactory from 'express';
import type { NextFunction, Request, Response } from 'express';
import { expressInstrumentation } from '../src/instrumentations/express/index.js';
import {
  assertDownstreamJoined,
  assertSpan,
  close,
  enableWith,
  get,
  listen,
  postLargeJson,
  serverSpans,
  startDownstream,
  withoutErrorLog,
  type Expected,
} from './framework-helpers.js';

const require = createRequire(import.meta.url);
const express = require('express') as typeof ExpressFactory;

function buildApp() {
  const app = express();
  // Production mode: Express's default error page then shows no stack trace (the frames differ).
  app.set('env', 'production');
  app.get('/shops/:id', (req: Request, res: Response) => {
    res.json({ id: req.params.id });
  });
  app.get('/boom', () => {
    throw new Error('sync boom');
  });
  app.get('/async-boom', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('async boom');
  });
  app.get('/next-err', (_req: Request, _res: Response, next: NextFunction) => next(new Error('passed on')));
  app.get('/teapot', (_req: Request, _res: Response, next: NextFunction) => next(Object.assign(new Error('client fault'), { status: 418 })));
  app.get('/handled', () => {
    throw new Error('handled boom');
  });
  const api = express.Router();
  // Middleware mounted under the same prefix that falls through must not leave its mount behind.
  app.use('/api', (_req: Request, _res: Response, next: NextFunction) => next());
  api.get('/items/:itemId', (req: Request, res: Response) => {
    res.send(`item ${req.params.itemId}`);
  });
  app.use('/api', api);
  const orders = express.Router({ mergeParams: true });
  orders.get('/orders/:orderId', (req: Request, res: Response) => {
    res.send(`order ${req.params.orderId}`);
  });
  const users = express.Router({ mergeParams: true });
  users.use('/:uid', orders);
  app.use('/users', users);
  // A route registered after the sub-routers: the mount stack must be back to the root.
  app.get('/after', (_req: Request, res: Response) => {
    res.send('after');
  });
  app.use((err: Error, req: Request, res: Response, next: NextFunction) => {
    if (req.path === '/handled') res.status(502).send(`handled: ${err.message}`);
    else next(err);
  });
  return app;
}

const PATHS = ['/shops/42', '/missing', '/boom', '/async-boom', '/next-err', '/teapot', '/handled', '/api/items/7', '/users/5/orders/9', '/after'];
const EXPECTED: Expected[] = [
  { name: 'GET /shops/:id', route: '/shops/:id', status: 'unset', exceptions: [] },
  { name: 'GET', route: undefined, status: 'unset', exceptions: [] },
  { name: 'GET /boom', route: '/boom', status: 'error', exceptions: ['sync boom'] },
  { name: 'GET /async-boom', route: '/async-boom', status: 'error', exceptions: ['async boom'] },
  { name: 'GET /next-err', route: '/next-err', status: 'error', exceptions: ['passed on'] },
  // An error with a 4xx status is the client's: recorded, but the span is not failed.
  { name: 'GET /teapot', route: '/teapot', status: 'unset', exceptions: ['client fault'] },
  // Handled by the app's error middleware (502): still recorded once, and failed.
  { name: 'GET /handled', route: '/handled', status: 'error', exceptions: ['handled boom'] },
  { name: 'GET /api/items/:itemId', route: '/api/items/:itemId', status: 'unset', exceptions: [] },
  { name: 'GET /users/:uid/orders/:orderId', route: '/users/:uid/orders/:orderId', status: 'unset', exceptions: [] },
  { name: 'GET /after', route: '/after', status: 'unset', exceptions: [] },
];

describe('express instrumentation', () => {
  it('names server spans by route template, records errors, and leaves every response as it was', async () => {
    const plain = createServer(buildApp());
    const baseline = await withoutErrorLog(async () => get(await listen(plain), PATHS));
    await close(plain);
    assert.deepEqual(baseline.map((s) => s.status), [200, 404, 500, 500, 500, 418, 502, 200, 200, 200]);

    const { collector, handle } = enableWith(expressInstrumentation(), 'express-test');
    try {
      const server = createServer(buildApp());
      const traced = await withoutErrorLog(async () => get(await listen(server), PATHS));
      await close(server);
      assert.deepEqual(traced, baseline);
      const spans = await serverSpans(collector, PATHS.length);
      spans.forEach((span, i) => assertSpan(span, EXPECTED[i]!, PATHS[i]!));
      assert.equal(spans[2]!.attributes['http.response.status_code'], 500);
    } finally {
      handle.disable();
    }
  });

  it('concurrent requests through nested routers keep their own templates', async () => {
    const { collector, handle } = enableWith(expressInstrumentation(), 'express-concurrent');
    try {
      const server = createServer(buildApp());
      const port = await listen(server);
      const paths = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `/users/${i}/orders/${i}` : i % 3 === 1 ? `/api/items/${i}` : `/shops/${i}`));
      const seen = await Promise.all(paths.map((p) => get(port, [p])));
      await close(server);
      assert.ok(seen.every(([s]) => s!.status === 200));
      const spans = await serverSpans(collector, paths.length);
      const byPath = new Map(spans.map((s) => [s.attributes['url.path'], s.name]));
      for (const p of paths) {
        const expected = p.startsWith('/users') ? 'GET /users/:uid/orders/:orderId' : p.startsWith('/api') ? 'GET /api/items/:itemId' : 'GET /shops/:id';
        assert.equal(byPath.get(p), expected, p);
      }
    } finally {
      handle.disable();
    }
  });

  it('a route after express.json() that calls downstream stays in the request\'s trace (body read over several chunks)', async () => {
    const { collector, handle } = enableWith(expressInstrumentation(), 'express-body');
    const down = await startDownstream();
    try {
      const app = express();
      app.post('/orders/:id', express.json({ limit: '2mb' }), async (req: Request, res: Response) => {
        const answer = await down.call('/down/express');
        res.json({ size: (req.body as { filler: string }).filler.length, answer });
      });
      const server = createServer(app);
      const reply = await postLargeJson(await listen(server), '/orders/1');
      await close(server);
      assert.deepEqual(reply, { status: 200, body: JSON.stringify({ size: 1 << 20, answer: 'down/down/express' }) });
      await assertDownstreamJoined(collector, '/orders/1', '/down/express');
    } finally {
      await close(down.server);
      handle.disable();
    }
  });
});
