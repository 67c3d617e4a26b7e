import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { activeContext } from '../src/context/context-manager.js';
import { amqpHeadersGetter } from '../src/propagation/carriers.js';
import { markStage } from '../src/stages/mark-stage.js';
import { stagesFor } from '../src/stages/stages.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';

function setup() {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: 'shop-indexer', processors: [collector] });
  return { collector, tracing, stages: stagesFor(tracing), tracer: tracing.getTracer('amqp-instrumentation') };
}

const shop = { type: 'shop', key: '42', version: 7 };

describe('markStage', () => {
  it('declares a message delivery made by an instrumentation the receive of an entity', async () => {
    const { collector, tracing, stages, tracer } = setup();
    const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'lt=0.3' };
    // What an automatic AMQP instrumentation does for each delivery: a consumer span from the headers.
    await tracer.trace('shop-changed process', { kind: 'consumer', parent: tracing.extract(headers, amqpHeadersGetter) }, async () => {
      await Promise.resolve();
      assert.equal(stages.markStage(activeContext().span, 'receive', shop), true);
      stages.write(shop, 'mongo:shops', () => undefined);
    });
    const delivery = collector.byName('shop-changed process');
    assert.equal(delivery.kind, 'consumer');
    assert.equal(delivery.rpcid, '0.3');
    assert.deepEqual(delivery.attributes, {
      'linktrace.stage': 'receive',
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '42',
      'linktrace.entity.version': 7,
    });
    const write = collector.byName('write shop to mongo:shops');
    assert.equal(write.parentSpanId, delivery.spanId);
    assert.equal(write.rpcid, '0.3.1');
  });

  it('sets the target of a write/enqueue and the reason of a skip, and keeps other attributes', () => {
    const { collector, stages, tracer } = setup();
    const write = tracer.startSpan('INSERT user_shop', { kind: 'client', attributes: { 'db.system': 'mysql' } });
    assert.equal(stages.markStage(write, 'write', shop, 'mysql:user_shop'), true);
    write.end();
    const skip = tracer.startSpan('filter');
    assert.equal(markStage(skip, 'skip', { type: 'shop', key: 3 }, 'deleted upstream'), true);
    skip.end();
    assert.deepEqual(collector.byName('INSERT user_shop').attributes, {
      'db.system': 'mysql',
      'linktrace.stage': 'write',
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '42',
      'linktrace.entity.version': 7,
      'linktrace.target': 'mysql:user_shop',
    });
    assert.equal(collector.byName('INSERT user_shop').kind, 'client');
    assert.deepEqual(collector.byName('filter').attributes, {
      'linktrace.stage': 'skip',
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '3',
      'linktrace.skip.reason': 'deleted upstream',
    });
  });

  it('gives an OpenTelemetry span the same attributes as a Linktrace stage span', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const otelSpan = provider.getTracer('otel-app').startSpan('write');
    assert.equal(markStage(otelSpan, 'write', shop, 'Redis:shop-cache'), true);
    otelSpan.end();
    await provider.forceFlush();
    const { collector, stages } = setup();
    stages.write(shop, 'Redis:shop-cache', () => undefined);
    const [exported] = exporter.getFinishedSpans();
    assert.deepEqual({ ...exported!.attributes }, collector.spans[0]!.attributes);
    assert.equal(exported!.attributes['linktrace.target'], 'redis:shop-cache');
    await provider.shutdown();
  });

  it('returns false and sets what is valid on bad input, never throwing', () => {
    const { collector, stages, tracer } = setup();
    const span = tracer.startSpan('partial');
    assert.equal(stages.markStage(span, 'write', { type: 'shop', key: '', version: 3 }, 'no scheme here'), false);
    span.end();
    assert.deepEqual(collector.byName('partial').attributes, {
      'linktrace.stage': 'write',
      'linktrace.entity.type': 'shop',
      'linktrace.entity.version': 3,
      'linktrace.target': 'no scheme here',
    });
    assert.equal(stages.counters.invalidEntities, 1);
    assert.equal(stages.counters.invalidTargets, 1);

    const bare = tracer.startSpan('bare');
    assert.equal(stages.markStage(bare, 'unknown' as never, shop), false);
    assert.equal(stages.markStage(bare, 'receive', shop, 'mysql:x' as never), false);
    bare.end();
    assert.equal(stages.markStage(undefined, 'receive', shop), false);
    assert.equal(stages.markStage({} as never, 'receive', shop), false);
    const throwing = {
      setAttribute() {
        throw new Error('closed');
      },
    };
    assert.equal(markStage(throwing, 'receive', shop), false);
    assert.equal(stages.counters.invalidCalls, 4);
    // An unknown stage sets nothing; a target on a receive is left out.
    assert.deepEqual(collector.byName('bare').attributes, {
      'linktrace.stage': 'receive',
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '42',
      'linktrace.entity.version': 7,
    });
  });
});
