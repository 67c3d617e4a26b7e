import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type KoaApplication from 'koa';
import type KoaRouter from '@koa/router';
import { koaInstrumentation } from '../src/instrumentations/koa/index.js';
import { assertDownstreamJoined, assertSpan, close, enableWith, get, listen, postLargeJson, serverSpans, startDownstream, type Expected } from './framework-helpers.js';

const require = createRequire(import.meta.url);
const Koa = require('koa') as typeof KoaApplication;
const Router = require('@koa/router') as typeof KoaRouter;

function buildApp() {
  const app = new Koa();
  // Koa's default 'error' listener logs to stderr; silent keeps the test output clean.
  app.silent = true;
  // An error-handling middleware that turns one path's error into a response itself.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (ctx.path !== '/handled') throw error;
      ctx.status = 502;
      ctx.body = `handled: ${(error as Error).message}`;
    }
  });
  const router = new Router();
  router.get('/shops/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.get('/boom', () => {
    throw new Error('sync boom');
  });
  router.get('/async-boom', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('async boom');
  });
  router.get('/teapot', (ctx) => ctx.throw(418, 'client fault'));
  router.get('/handled', () => {
    throw new Error('handled boom');
  });
  router.get('/emitted', (ctx) => {
    ctx.status = 503;
    ctx.body = 'emitted';
    ctx.app.emit('error', new Error('emitted error'), ctx);
  });
  const api = new Router({ prefix: '/api' });
  api.get('/items/:itemId', (ctx) => {
    ctx.body = `item ${ctx.params.itemId}`;
  });
  const orders = new Router();
  orders.get('/orders/:orderId', (ctx) => {
    ctx.body = `order ${ctx.params.orderId}`;
  });
  const users = new Router();
  users.use('/users/:uid', orders.routes());
  app.use(router.routes());
  app.use(api.routes());
  app.use(users.routes());
  return app;
}

function koaServer(app: KoaApplication) {
  const handler = app.callback();
  return createServer((req, res) => {
    void handler(req, res);
  });
}

const PATHS = ['/shops/42', '/missing', '/boom', '/async-boom', '/teapot', '/handled', '/emitted', '/api/items/7', '/users/5/orders/9'];
const EXPECTED: Expected[] = [
  { name: 'GET /shops/:id', route: '/shops/:id', status: 'unset', exceptions: [] },
  { name: 'GET', route: undefined, status: 'unset', exceptions: [] },
  { name: 'GET /boom', route: '/boom', status: 'error', exceptions: ['sync boom'] },
  { name: 'GET /async-boom', route: '/async-boom', status: 'error', exceptions: ['async boom'] },
  // ctx.throw(418): the client's error, recorded but not failing the span.
  { name: 'GET /teapot', route: '/teapot', status: 'unset', exceptions: ['client fault'] },
  // Caught by the app's own error middleware (no 'error' event): still recorded once, and failed.
  { name: 'GET /handled', route: '/handled', status: 'error', exceptions: ['handled boom'] },
  { name: 'GET /emitted', route: '/emitted', status: 'error', exceptions: ['emitted error'] },
  { name: 'GET /api/items/:itemId', route: '/api/items/:itemId', status: 'unset', exceptions: [] },
  { name: 'GET /users/:uid/orders/:orderId', route: '/users/:uid/orders/:orderId', status: 'unset', exceptions: [] },
];

describe('koa instrumentation', () => {
  it('names server spans by route template, records errors, and leaves every response as it was', async () => {
    const plain = koaServer(buildApp());
    const baseline = await get(await listen(plain), PATHS);
    await close(plain);
    assert.deepEqual(baseline.map((s) => s.status), [200, 404, 500, 500, 418, 502, 503, 200, 200]);

    const { collector, handle } = enableWith(koaInstrumentation(), 'koa-test');
    try {
      const app = buildApp();
      const errors: string[] = [];
      app.on('error', (error: Error) => errors.push(error.message));
      const server = koaServer(app);
      const traced = await get(await listen(server), PATHS);
      await close(server);
      assert.deepEqual(traced, baseline);
      // The app's own 'error' listener still gets exactly what Koa emits.
      assert.deepEqual(errors, ['sync boom', 'async boom', 'client fault', 'emitted error']);
      const spans = await serverSpans(collector, PATHS.length);
      spans.forEach((span, i) => assertSpan(span, EXPECTED[i]!, PATHS[i]!));
    } finally {
      handle.disable();
    }
  });

  it('an app without an error listener keeps Koa default one (it logs 500s), and disable restores Koa', async () => {
    const { handle } = enableWith(koaInstrumentation(), 'koa-default-listener');
    const app = buildApp();
    app.silent = false;
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      const server = koaServer(app);
      await get(await listen(server), ['/boom']);
      await close(server);
    } finally {
      console.error = original;
      handle.disable();
    }
    assert.ok(logged.some((line) => String(line).includes('sync boom')), `Koa's default listener logged: ${logged.join('|')}`);
    assert.equal(app.listenerCount('error'), 1);
    assert.equal(Object.hasOwn(Koa.prototype, 'emit'), false);
  });

  it("a middleware that reads ctx.req with 'data'/'end' and calls downstream from 'end' stays in the request's trace", async () => {
    const { collector, handle } = enableWith(koaInstrumentation(), 'koa-body');
    const down = await startDownstream();
    try {
      const app = new Koa();
      const router = new Router();
      router.post('/orders/:id', async (ctx) => {
        ctx.body = await new Promise<string>((resolve, reject) => {
          let size = 0;
          ctx.req.on('data', (chunk: Buffer) => (size += chunk.length));
          ctx.req.on('end', () => void down.call('/down/koa').then((answer) => resolve(`${size} ${answer}`), reject));
        });
      });
      app.use(router.routes());
      const server = koaServer(app);
      const reply = await postLargeJson(await listen(server), '/orders/1');
      await close(server);
      assert.deepEqual(reply, { status: 200, body: `${(1 << 20) + 13} down/down/koa` });
      await assertDownstreamJoined(collector, '/orders/1', '/down/koa');
    } finally {
      await close(down.server);
      handle.disable();
    }
  });
});
