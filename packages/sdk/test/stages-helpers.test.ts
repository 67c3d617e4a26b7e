import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { activeContext } from '../src/context/context-manager.js';
import { alwaysOff } from '../src/sampling/always-off.js';
import { stagesFor } from '../src/stages/stages.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing, type TracingOptions } from '../src/trace/tracing.js';

function setup(options: Partial<TracingOptions> = {}) {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: 'shop-sync', processors: [collector], ...options });
  return { collector, tracing, stages: stagesFor(tracing) };
}

const shop = { type: 'shop', key: '42', version: 7 } as const;
const entityAttributes = { 'linktrace.entity.type': 'shop', 'linktrace.entity.key': '42', 'linktrace.entity.version': 7 };

function only(collector: CollectingSpanProcessor): Span {
  assert.equal(collector.spans.length, 1, collector.spans.map((s) => s.name).join(', '));
  return collector.spans[0]!;
}

describe('stage helpers', () => {
  it('each helper sets exactly the DESIGN §3 attributes and its kind', () => {
    const cases = [
      { run: (s: ReturnType<typeof setup>['stages']) => s.receive(shop, () => 1), name: 'receive shop', kind: 'server', extra: {} },
      { run: (s: ReturnType<typeof setup>['stages']) => s.process(shop, () => 1), name: 'process shop', kind: 'internal', extra: {} },
      {
        run: (s: ReturnType<typeof setup>['stages']) => s.write(shop, 'mysql:user_shop', () => 1),
        name: 'write shop to mysql:user_shop',
        kind: 'client',
        extra: { 'linktrace.target': 'mysql:user_shop' },
      },
      {
        run: (s: ReturnType<typeof setup>['stages']) => s.write(shop, 'http:inventory', () => 1),
        name: 'write shop to http:inventory',
        kind: 'client',
        extra: { 'linktrace.target': 'http:inventory' },
      },
      {
        run: (s: ReturnType<typeof setup>['stages']) => s.skip(shop, 'unchanged', () => 1),
        name: 'skip shop',
        kind: 'internal',
        extra: { 'linktrace.skip.reason': 'unchanged' },
      },
      {
        run: (s: ReturnType<typeof setup>['stages']) => s.enqueue(shop, 'mq:shop-changed', () => 1),
        name: 'enqueue shop to mq:shop-changed',
        kind: 'producer',
        extra: { 'linktrace.target': 'mq:shop-changed' },
      },
      { run: (s: ReturnType<typeof setup>['stages']) => s.dequeue(shop, () => 1), name: 'dequeue shop', kind: 'consumer', extra: {} },
      { run: (s: ReturnType<typeof setup>['stages']) => s.consume(shop, () => 1), name: 'consume shop', kind: 'consumer', extra: {} },
    ] as const;
    for (const c of cases) {
      const { collector, stages } = setup();
      assert.equal(c.run(stages), 1);
      const span = only(collector);
      const stage = c.name.split(' ')[0];
      assert.equal(span.name, c.name);
      assert.equal(span.kind, c.kind, c.name);
      assert.deepEqual(span.attributes, { 'linktrace.stage': stage, ...entityAttributes, ...c.extra }, c.name);
      assert.equal(span.status.code, 'unset');
      assert.notEqual(span.durationUs, undefined);
      assert.deepEqual(stages.counters, { invalidEntities: 0, invalidTargets: 0, invalidSkipReasons: 0, invalidCalls: 0 });
    }
  });

  it('skip without a callback records a span that has ended', () => {
    const { collector, stages } = setup();
    assert.equal(stages.skip({ type: 'shop', key: 9 }, 'filtered-out'), undefined);
    const span = only(collector);
    assert.equal(span.name, 'skip shop');
    assert.deepEqual(span.attributes, {
      'linktrace.stage': 'skip',
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '9',
      'linktrace.skip.reason': 'filtered-out',
    });
    assert.equal(stages.counters.invalidCalls, 0);
  });

  it('records a numeric key as its string, a string version as given, and no version when absent', () => {
    const { collector, stages } = setup();
    stages.process({ type: 'order', key: 1001, version: '2024-05-01T10:00:00Z' }, () => undefined);
    stages.process({ type: 'order', key: 'a-7' }, () => undefined);
    assert.deepEqual(collector.spans[0]!.attributes, {
      'linktrace.stage': 'process',
      'linktrace.entity.type': 'order',
      'linktrace.entity.key': '1001',
      'linktrace.entity.version': '2024-05-01T10:00:00Z',
    });
    assert.deepEqual(collector.spans[1]!.attributes, { 'linktrace.stage': 'process', 'linktrace.entity.type': 'order', 'linktrace.entity.key': 'a-7' });
  });

  it('lowercases the scheme of a target and keeps the name as given', () => {
    const { collector, stages } = setup();
    stages.write(shop, 'MySQL:User_Shop', () => undefined);
    assert.equal(only(collector).attributes['linktrace.target'], 'mysql:User_Shop');
    assert.equal(stages.counters.invalidTargets, 0);
  });

  it('ends the span when an async callback settles and returns its value', async () => {
    const { collector, stages } = setup();
    const result = stages.write(shop, 'postgres:shops', async (span) => {
      assert.equal(activeContext().span, span);
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(collector.spans.length, 0, 'span must not end before the promise settles');
      return 'done';
    });
    assert.ok(result instanceof Promise);
    assert.equal(await result, 'done');
    const span = only(collector);
    assert.ok(span.durationUs! >= 4000, `duration ${span.durationUs}`);
    assert.equal(span.status.code, 'unset');
  });

  it('records a throw as a stage error and rethrows it unchanged', () => {
    const { collector, stages } = setup();
    const boom = new TypeError('row too large');
    assert.throws(
      () =>
        stages.write(shop, 'mysql:user_shop', () => {
          throw boom;
        }),
      (error) => error === boom,
    );
    const span = only(collector);
    assert.deepEqual(span.status, { code: 'error', message: 'row too large' });
    assert.equal(span.events.length, 1);
    assert.equal(span.events[0]!.name, 'exception');
    assert.equal(span.events[0]!.attributes?.['exception.type'], 'TypeError');
    assert.equal(span.events[0]!.attributes?.['exception.message'], 'row too large');
    assert.equal(span.attributes['linktrace.stage'], 'write');
  });

  it('records a rejection as a stage error and rejects with the same reason', async () => {
    const { collector, stages } = setup();
    const reason = new Error('broker down');
    await assert.rejects(
      stages.enqueue(shop, 'mq:shop-changed', async () => {
        await Promise.resolve();
        throw reason;
      }),
      (error) => error === reason,
    );
    const span = only(collector);
    assert.equal(span.kind, 'producer');
    assert.deepEqual(span.status, { code: 'error', message: 'broker down' });
    assert.equal(span.events[0]!.name, 'exception');
  });

  it('makes the stage span active, so nested stages and spans get child positions', async () => {
    const { collector, stages, tracing } = setup();
    const tracer = tracing.getTracer('app');
    await tracer.trace('handle POST /shops', { kind: 'server' }, async () => {
      await stages.receive(shop, async (received) => {
        stages.process(shop, () => tracer.startSpan('validate').end());
        await stages.write(shop, 'mysql:user_shop', async () => {
          await Promise.resolve();
          tracer.startSpan('INSERT user_shop', { kind: 'client' }).end();
        });
        assert.equal(activeContext().span, received);
      });
    });
    const byName = (name: string) => collector.byName(name);
    const root = byName('handle POST /shops');
    const receive = byName('receive shop');
    assert.equal(root.rpcid, '0');
    assert.equal(receive.parentSpanId, root.spanId);
    assert.equal(receive.rpcid, '0.1');
    // Inside a local server span the receive is a step of it, not a second server span.
    assert.equal(receive.kind, 'internal');
    assert.equal(byName('process shop').rpcid, '0.1.1');
    assert.equal(byName('validate').rpcid, '0.1.1.1');
    assert.equal(byName('write shop to mysql:user_shop').rpcid, '0.1.2');
    assert.equal(byName('write shop to mysql:user_shop').parentSpanId, receive.spanId);
    assert.equal(byName('INSERT user_shop').rpcid, '0.1.2.1');
    for (const span of collector.spans) assert.equal(span.traceId, root.traceId);
  });

  it('takes a name, a kind, extra attributes, a parent and links from options; stage attributes win', () => {
    const { collector, stages, tracing } = setup();
    const tracer = tracing.getTracer('app');
    const other = tracer.startSpan('other trace', { parent: null });
    other.end();
    const parent = tracer.startSpan('poll loop', { parent: null });
    stages.receive(shop, () => undefined, {
      name: 'receive from poller',
      kind: 'consumer',
      attributes: { 'db.system': 'mysql', 'linktrace.stage': 'write' },
      parent,
      links: [{ context: other.spanContext() }],
    });
    parent.end();
    const span = collector.byName('receive from poller');
    assert.equal(span.kind, 'consumer');
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.traceId, parent.traceId);
    assert.deepEqual(span.links, [{ traceId: other.traceId, spanId: other.spanId }]);
    assert.deepEqual(span.attributes, { 'db.system': 'mysql', 'linktrace.stage': 'receive', ...entityAttributes });
    assert.equal(stages.counters.invalidCalls, 0);
  });

  it('a receive with a null parent starts a new trace as a server span', () => {
    const { collector, stages, tracing } = setup();
    tracing.getTracer('app').trace('outer', undefined, () => stages.receive(shop, () => undefined, { parent: null }));
    const span = collector.byName('receive shop');
    assert.equal(span.kind, 'server');
    assert.equal(span.parentSpanId, undefined);
    assert.notEqual(span.traceId, collector.byName('outer').traceId);
  });

  it('reports a start record when asked', () => {
    const { collector, stages } = setup();
    stages.dequeue(shop, () => undefined, { startRecord: true });
    assert.equal(collector.startRecords.length, 1);
    assert.equal(collector.startRecords[0]!.durationUs, undefined);
    assert.equal(collector.startRecords[0]!.name, 'dequeue shop');
    // The start record already names the stage and the entity, so a hop that crashes is identifiable.
    assert.equal(collector.startRecords[0]!.attributes['linktrace.stage'], 'dequeue');
    assert.equal(collector.startRecords[0]!.attributes['linktrace.entity.type'], 'shop');
    assert.equal(collector.startRecords[0]!.attributes['linktrace.entity.key'], String(shop.key));
  });

  it('still runs the callback and propagates context when the trace is not sampled', async () => {
    const { collector, stages } = setup({ sampler: alwaysOff() });
    const headers: Record<string, string> = {};
    const value = await stages.enqueue(shop, 'mq:shop-changed', async (span) => {
      assert.equal(span.isRecording(), false);
      stages.inject(headers);
      await Promise.resolve();
      return 5;
    });
    assert.equal(value, 5);
    assert.equal(collector.spans.length, 0);
    assert.match(headers['traceparent']!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });
});
