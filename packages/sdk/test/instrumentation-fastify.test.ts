import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type FastifyFactory from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fastifyInstrumentation } from '../src/instrumentations/fastify/index.js';
import { assertDownstreamJoined, assertSpan, close, enableWith, get, postLargeJson, serverSpans, startDownstream, type Expected } from './framework-helpers.js';

const require = createRequire(import.meta.url);
const fastify = require('fastify') as typeof FastifyFactory;

function buildApp() {
  const app = fastify();
  app.get('/shops/:id', (request: FastifyRequest) => ({ id: (request.params as { id: string }).id }));
  app.get('/boom', () => {
    throw new Error('sync boom');
  });
  app.get('/async-boom', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('async boom');
  });
  app.get('/teapot', () => {
    throw Object.assign(new Error('client fault'), { statusCode: 418 });
  });
  app.get(
    '/handled',
    {
      errorHandler: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
        void reply.code(502).send(`handled: ${error.message}`);
      },
    },
    () => {
      throw new Error('handled boom');
    },
  );
  app.get(
    '/hook-boom',
    { onRequest: (_request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => done(new Error('hook boom')) },
    () => 'never',
  );
  void app.register(
    (api, _options, done) => {
      api.get('/items/:itemId', (request: FastifyRequest) => `item ${(request.params as { itemId: string }).itemId}`);
      done();
    },
    { prefix: '/api' },
  );
  return app;
}

async function run(paths: readonly string[]) {
  const app = buildApp();
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    return await get(address.port, paths);
  } finally {
    await app.close();
  }
}

const PATHS = ['/shops/42', '/missing', '/boom', '/async-boom', '/teapot', '/handled', '/hook-boom', '/api/items/7'];
const EXPECTED: Expected[] = [
  { name: 'GET /shops/:id', route: '/shops/:id', status: 'unset', exceptions: [] },
  { name: 'GET', route: undefined, status: 'unset', exceptions: [] },
  { name: 'GET /boom', route: '/boom', status: 'error', exceptions: ['sync boom'] },
  { name: 'GET /async-boom', route: '/async-boom', status: 'error', exceptions: ['async boom'] },
  { name: 'GET /teapot', route: '/teapot', status: 'unset', exceptions: ['client fault'] },
  { name: 'GET /handled', route: '/handled', status: 'error', exceptions: ['handled boom'] },
  // An onRequest hook failed before the handler: seen by the onError hook added at creation.
  { name: 'GET /hook-boom', route: '/hook-boom', status: 'error', exceptions: ['hook boom'] },
  { name: 'GET /api/items/:itemId', route: '/api/items/:itemId', status: 'unset', exceptions: [] },
];

describe('fastify instrumentation', () => {
  it('names server spans by route url, records errors, and leaves every response as it was', async () => {
    const baseline = await run(PATHS);
    assert.deepEqual(baseline.map((s) => s.status), [200, 404, 500, 500, 418, 502, 500, 200]);
    const { collector, handle } = enableWith(fastifyInstrumentation(), 'fastify-test');
    try {
      const traced = await run(PATHS);
      assert.deepEqual(traced, baseline);
      const spans = await serverSpans(collector, PATHS.length);
      spans.forEach((span, i) => assertSpan(span, EXPECTED[i]!, PATHS[i]!));
    } finally {
      handle.disable();
    }
  });

  it('a handler of a JSON POST that calls downstream stays in the request\'s trace (body read over several chunks)', async () => {
    const { collector, handle } = enableWith(fastifyInstrumentation(), 'fastify-body');
    const down = await startDownstream();
    const app = fastify({ bodyLimit: 2 << 20 });
    try {
      app.post('/orders/:id', async (request: FastifyRequest) => {
        const answer = await down.call('/down/fastify');
        return { size: (request.body as { filler: string }).filler.length, answer };
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      assert.ok(address !== null && typeof address === 'object');
      const reply = await postLargeJson(address.port, '/orders/1');
      assert.deepEqual(reply, { status: 200, body: JSON.stringify({ size: 1 << 20, answer: 'down/down/fastify' }) });
      await assertDownstreamJoined(collector, '/orders/1', '/down/fastify');
    } finally {
      await app.close();
      await close(down.server);
      handle.disable();
    }
  });
});
