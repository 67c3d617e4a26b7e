import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Redis as RedisClient } from 'ioredis';
import { activeContext, runWithContext } from '../src/index.js';
import { instrument, isWrapped, suppressTracing, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { ioredisInstrumentation } from '../src/instrumentations/ioredis/index.js';
import { captureStderr, closedPort, collectingTracing, fakePackage, runEsmChild, spansOf, uniqueName } from './instrumentation-db-helpers.js';

const require = createRequire(import.meta.url);
type RedisCtor = new (options: Record<string, unknown>) => RedisClient;
const key = uniqueName('lt:redis');

describe('ioredis instrumentation (Redis at 127.0.0.1:6379)', () => {
  const { tracing, collector } = collectingTracing('ioredis-test');
  const tracer = tracing.getTracer('test');
  let handle: InstrumentationHandle;
  let Redis: RedisCtor;
  let redis: RedisClient;

  before(() => {
    handle = instrument({ tracing, instrumentations: [ioredisInstrumentation()] });
    Redis = require('ioredis') as RedisCtor;
    redis = new Redis({ host: '127.0.0.1', port: 6379, db: 0, lazyConnect: false });
  });

  after(async () => {
    await redis.del(`${key}:a`, `${key}:b`, `${key}:h`, `${key}:list`);
    await redis.quit();
    handle.disable();
  });

  const mine = () => spansOf(collector.spans, 'ioredis');
  const last = () => {
    const spans = mine();
    assert.ok(spans.length > 0, 'no ioredis span');
    return spans[spans.length - 1]!;
  };

  it('a command issued before the connection is ready is traced once, in the caller context', async () => {
    collector.clear();
    const parent = tracer.startSpan('parent');
    const reply = await runWithContext(activeContext().withSpan(parent), async () => {
      const r = await redis.set(`${key}:a`, 'secret-value', 'EX', 60);
      assert.equal(activeContext().span, parent);
      return r;
    });
    parent.end();
    assert.equal(reply, 'OK');
    const spans = mine();
    // The handshake's own commands (INFO for the ready check) are not the application's.
    assert.deepEqual(spans.map((s) => s.name), ['SET']);
    const span = spans[0]!;
    assert.equal(span.kind, 'client');
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.attributes['db.system.name'], 'redis');
    assert.equal(span.attributes['db.operation.name'], 'SET');
    assert.equal(span.attributes['db.query.text'], `SET ${key}:a ? ? ?`);
    assert.equal(span.attributes['db.namespace'], '0');
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], 6379);
    assert.equal(span.attributes['db.query.parameters'], undefined);
  });

  it('callback form: same arguments, caller context; keys kept, values replaced', async () => {
    collector.clear();
    const parent = tracer.startSpan('cb');
    const seen = await new Promise<{ args: unknown[]; same: boolean }>((resolve) => {
      runWithContext(activeContext().withSpan(parent), () => {
        void redis.hset(`${key}:h`, 'field', 'value', (...args: unknown[]) => resolve({ args, same: activeContext().span === parent }));
      });
    });
    parent.end();
    assert.deepEqual(seen.args, [null, 1]);
    assert.equal(seen.same, true);
    assert.equal(last().attributes['db.query.text'], `HSET ${key}:h ? ?`);
    assert.equal(last().parentSpanId, parent.spanId);
    // Several keys: all of them kept.
    await redis.mget(`${key}:a`, `${key}:b`);
    assert.equal(last().attributes['db.query.text'], `MGET ${key}:a ${key}:b`);
  });

  it('captureValues records the arguments', async () => {
    handle.disable();
    const captured = instrument({ tracing, captureValues: true, instrumentations: [ioredisInstrumentation()] });
    try {
      collector.clear();
      await redis.set(`${key}:b`, 'shown');
      assert.equal(last().attributes['db.query.parameters'], `["${key}:b","shown"]`);
      assert.equal(last().attributes['db.query.text'], `SET ${key}:b ?`);
    } finally {
      captured.disable();
      handle = instrument({ tracing, instrumentations: [ioredisInstrumentation()] });
    }
  });

  it('pipeline and multi: one span each with the command count, no span per command', async () => {
    collector.clear();
    const parent = tracer.startSpan('batch');
    const [piped, multi] = await runWithContext(activeContext().withSpan(parent), async () => {
      const p = await redis.pipeline().rpush(`${key}:list`, 'x').rpush(`${key}:list`, 'y').lrange(`${key}:list`, 0, -1).exec();
      const m = await redis.multi().incr(`${key}:n`).del(`${key}:n`).exec();
      return [p, m];
    });
    parent.end();
    assert.deepEqual(piped, [[null, 1], [null, 2], [null, ['x', 'y']]]);
    assert.deepEqual(multi, [[null, 1], [null, 1]]);
    const spans = mine();
    assert.deepEqual(spans.map((s) => s.name), ['PIPELINE', 'MULTI']);
    assert.equal(spans[0]!.attributes['db.operation.batch.size'], 3);
    assert.equal(spans[0]!.attributes['db.query.text'], `RPUSH ${key}:list ?\nRPUSH ${key}:list ?\nLRANGE ${key}:list ? ?`);
    assert.equal(spans[1]!.attributes['db.operation.batch.size'], 2);
    assert.equal(spans[1]!.attributes['db.query.text'], `INCR ${key}:n\nDEL ${key}:n`);
    assert.ok(spans.every((s) => s.parentSpanId === parent.spanId));
  });

  it('errors: a failing command and a failing pipeline; the error objects are the ones without instrumentation', async () => {
    collector.clear();
    const traced = await redis.incr(`${key}:h`).then(() => undefined, (e: unknown) => e);
    const span = last();
    assert.equal(span.status.code, 'error');
    assert.equal(span.attributes['db.response.status_code'], 'WRONGTYPE');
    assert.equal(span.attributes['error.type'], 'ReplyError');
    assert.ok(span.events.some((e) => e.name === 'exception'));
    const piped = await redis.pipeline().get(`${key}:a`).incr(`${key}:h`).exec();
    assert.equal(piped![0]![1], 'secret-value');
    assert.equal(last().name, 'PIPELINE');
    assert.equal(last().status.code, 'error');
    handle.disable();
    assert.equal(isWrapped((Redis as unknown as { prototype: { sendCommand: unknown } }).prototype.sendCommand), false);
    const plain = await redis.incr(`${key}:h`).then(() => undefined, (e: unknown) => e);
    const plainGet = await redis.get(`${key}:a`);
    handle = instrument({ tracing, instrumentations: [ioredisInstrumentation()] });
    assert.equal((traced as Error).constructor, (plain as Error).constructor);
    assert.equal((traced as Error).message, (plain as Error).message);
    assert.equal(await redis.get(`${key}:a`), plainGet);
  });

  it('connection refused: the command span fails', async () => {
    const port = await closedPort();
    const down = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true });
    down.on('error', () => {});
    collector.clear();
    const parent = tracer.startSpan('refused');
    const error = await runWithContext(activeContext().withSpan(parent), () => down.get(`${key}:a`).then(() => undefined, (e: unknown) => e));
    parent.end();
    down.disconnect();
    assert.ok(error instanceof Error);
    const span = last();
    assert.equal(span.name, 'GET');
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.status.code, 'error');
    assert.equal(span.attributes['server.port'], port);
  });

  it('suppressed calls record nothing', async () => {
    collector.clear();
    await runWithContext(suppressTracing(), () => redis.get(`${key}:a`));
    assert.equal(mine().length, 0);
  });

  it('ESM import of ioredis is patched', async () => {
    const out = await runEsmChild(`
      const { CollectingSpanProcessor, createTracing } = await import('SDK/index.js');
      const { instrument } = await import('SDK/instrumentations/core/index.js');
      const { ioredisInstrumentation } = await import('SDK/instrumentations/ioredis/index.js');
      const collector = new CollectingSpanProcessor();
      instrument({ tracing: createTracing({ service: 'esm', processors: [collector] }), instrumentations: [ioredisInstrumentation()] });
      const { Redis } = await import('ioredis');
      const redis = new Redis({ host: '127.0.0.1', port: 6379 });
      await redis.exists(${JSON.stringify(key + ':none')});
      await redis.quit();
      console.log(JSON.stringify(collector.spans.map((s) => [s.name, s.attributes['db.query.text']])));
    `);
    assert.deepEqual(out, [['EXISTS', `EXISTS ${key}:none`], ['QUIT', 'QUIT']]);
  });

  it('an unexpected ioredis shape is logged once and left untouched', async () => {
    const root = fakePackage('ioredis', '5.0.0', 'module.exports = function Redis() {}; module.exports.prototype.get = function get() { return 5; };\n');
    let h: InstrumentationHandle | undefined;
    let mod: { prototype: { get: () => number } } | undefined;
    const written = await captureStderr(() => {
      h = instrument({ tracing, instrumentations: [ioredisInstrumentation()] });
      mod = createRequire(`${root}/index.js`)('ioredis') as typeof mod;
    });
    h!.disable();
    assert.match(written, /instrumentation ioredis: could not patch ioredis@5\.0\.0; left untouched: Redis\.prototype\.sendCommand is not a function/);
    assert.equal(isWrapped(mod!.prototype.get), false);
    assert.deepEqual(Object.keys(mod!.prototype), ['get']);
  });
});
