import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { Readable, Writable, pipeline } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { activeContext, bindContext, bindEmitter, runWithContext } from '../src/context/context-manager.js';
import { Context } from '../src/context/context.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';

function setup() {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: 'ctx-test', processors: [collector] });
  return { collector, tracer: tracing.getTracer('ctx-test') };
}

const activeSpanName = () => (activeContext().span as { name?: string } | undefined)?.name;

describe('context propagation', () => {
  it('survives await', async () => {
    const { tracer } = setup();
    await tracer.startActiveSpan('outer', undefined, async (span) => {
      await sleep(1);
      await Promise.resolve();
      assert.equal(activeContext().span, span);
      span.end();
    });
    assert.equal(activeContext().span, undefined);
  });

  it('survives promise chains', async () => {
    const { tracer } = setup();
    const seen = await tracer.startActiveSpan('chain', undefined, (span) =>
      Promise.resolve(1)
        .then((v) => v + 1)
        .then(() => activeSpanName())
        .finally(() => span.end()),
    );
    assert.equal(seen, 'chain');
  });

  it('survives setTimeout', async () => {
    const { tracer } = setup();
    const seen = await new Promise<string | undefined>((resolve) => {
      tracer.startActiveSpan('timeout', undefined, (span) => {
        setTimeout(() => {
          resolve(activeSpanName());
          span.end();
        }, 2);
      });
    });
    assert.equal(seen, 'timeout');
  });

  it('survives setImmediate', async () => {
    const { tracer } = setup();
    const seen = await new Promise<string | undefined>((resolve) => {
      tracer.startActiveSpan('immediate', undefined, (span) => {
        setImmediate(() => resolve(activeSpanName()));
        span.end();
      });
    });
    assert.equal(seen, 'immediate');
  });

  it('survives process.nextTick', async () => {
    const { tracer } = setup();
    const seen = await new Promise<string | undefined>((resolve) => {
      tracer.startActiveSpan('tick', undefined, (span) => {
        process.nextTick(() => resolve(activeSpanName()));
        span.end();
      });
    });
    assert.equal(seen, 'tick');
  });

  it('gives EventEmitter listeners the context they were added in, with bindEmitter', async () => {
    const { tracer } = setup();
    const emitter = bindEmitter(new EventEmitter());
    const seen: (string | undefined)[] = [];
    const listener = () => seen.push(activeSpanName());
    tracer.startActiveSpan('listener-owner', undefined, (span) => {
      emitter.on('ping', listener);
      span.end();
    });
    // Emitted from another span's context: without binding the listener would see 'emitter'.
    tracer.startActiveSpan('emitter', undefined, (span) => {
      emitter.emit('ping');
      span.end();
    });
    await sleep(1);
    emitter.off('ping', listener);
    emitter.emit('ping');
    assert.deepEqual(seen, ['listener-owner']);
    // And the unbound baseline really is the emitter's context.
    const plain = new EventEmitter();
    let plainSeen: string | undefined;
    tracer.startActiveSpan('plain-owner', undefined, (span) => {
      plain.on('ping', () => (plainSeen = activeSpanName()));
      span.end();
    });
    tracer.startActiveSpan('plain-emitter', undefined, (span) => {
      plain.emit('ping');
      span.end();
    });
    assert.equal(plainSeen, 'plain-emitter');
  });

  it('bindEmitter: removeListener and listeners() work with the original function, on several events and with once', () => {
    const { tracer } = setup();
    const emitter = bindEmitter(new EventEmitter(), Context.ROOT.withSpan(tracer.startSpan('bound')));
    const seen: string[] = [];
    const listener = (what: string) => seen.push(`${what}:${activeSpanName()}`);
    emitter.on('a', listener);
    emitter.on('b', listener);
    emitter.once('c', listener);
    emitter.prependOnceListener('d', listener);
    assert.deepEqual(emitter.listeners('a'), [listener]);
    assert.deepEqual(emitter.listeners('c'), [listener]);
    emitter.removeListener('a', listener);
    emitter.off('c', listener);
    emitter.removeListener('d', listener);
    for (const event of ['a', 'b', 'c', 'd']) emitter.emit(event, event);
    assert.deepEqual(seen, ['b:bound']);
    emitter.removeListener('b', listener);
    assert.equal(emitter.emit('b', 'b'), false);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((e) => emitter.listenerCount(e)), [0, 0, 0, 0]);
  });

  it('survives stream callbacks (data, end, pipeline)', async () => {
    const { tracer } = setup();
    const seen = await tracer.startActiveSpan('stream', undefined, (span) =>
      new Promise<string[]>((resolve, reject) => {
        const names: string[] = [];
        const source = Readable.from(['a', 'b', 'c']);
        const sink = new Writable({
          write(_chunk, _enc, cb) {
            names.push(`write:${activeSpanName()}`);
            setImmediate(cb);
          },
        });
        source.on('data', () => names.push(`data:${activeSpanName()}`));
        pipeline(source, sink, (err) => {
          span.end();
          if (err) reject(err);
          else resolve([...names, `done:${activeSpanName()}`]);
        });
      }),
    );
    assert.ok(seen.length >= 7, seen.join());
    for (const entry of seen) assert.match(entry, /:stream$/);
  });

  it('binds functions and runs with explicit contexts', () => {
    const { tracer } = setup();
    const span = tracer.startSpan('explicit');
    const ctx = Context.ROOT.withSpan(span);
    assert.equal(runWithContext(ctx, () => activeContext().span), span);
    const bound = bindContext(() => activeContext().span, ctx);
    assert.equal(bound(), span);
    assert.equal(activeContext().span, undefined);
    span.end();
  });

  it('gives parallel branches distinct rpcids', async () => {
    const { tracer, collector } = setup();
    await tracer.trace('root', undefined, async () => {
      await Promise.all(
        [1, 2, 3].map((i) =>
          tracer.trace(`branch-${i}`, undefined, async () => {
            await sleep(3 - i);
            await tracer.trace(`leaf-${i}`, undefined, () => sleep(1));
          }),
        ),
      );
    });
    const rpcids = collector.spans.map((s) => s.rpcid);
    assert.equal(new Set(rpcids).size, rpcids.length, rpcids.join());
    assert.equal(collector.byName('root').rpcid, '0');
    assert.deepEqual(
      ['branch-1', 'branch-2', 'branch-3'].map((n) => collector.byName(n).rpcid),
      ['0.1', '0.2', '0.3'],
    );
    for (const i of [1, 2, 3]) assert.equal(collector.byName(`leaf-${i}`).rpcid, `0.${i}.1`);
  });
});
