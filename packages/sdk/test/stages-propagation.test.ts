import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { amqpHeadersGetter, amqpHeadersSetter, natsHeadersGetter, type AmqpHeaders, type GetSetHeaders } from '../src/propagation/carriers.js';
import { stagesFor } from '../src/stages/stages.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';

function service(name: string) {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: name, processors: [collector] });
  return { collector, tracing, stages: stagesFor(tracing), tracer: tracing.getTracer(name) };
}

const shop = { type: 'shop', key: '42', version: 7 };

/** Publishes like amqplib would: string values, then the broker hands them back as Buffers. */
function publish(producer: ReturnType<typeof service>): AmqpHeaders {
  const headers: AmqpHeaders = { 'x-retry': 0 };
  producer.tracer.trace('POST /shops', { kind: 'server' }, () =>
    producer.stages.receive(shop, () => producer.stages.enqueue(shop, 'mq:shop-changed', () => producer.stages.inject(headers, amqpHeadersSetter))),
  );
  const delivered: AmqpHeaders = {};
  for (const [k, v] of Object.entries(headers)) delivered[k] = typeof v === 'string' ? Buffer.from(v) : v;
  return delivered;
}

describe('stages across processes', () => {
  it('enqueue -> AMQP headers -> dequeue in another tracer continues the trace as parent', () => {
    const producer = service('shop-api');
    const consumer = service('shop-indexer');
    const delivered = publish(producer);
    consumer.stages.dequeue(shop, () => consumer.stages.write(shop, 'mongo:shops', () => undefined), {
      headers: delivered,
      getter: amqpHeadersGetter,
    });
    const enqueue = producer.collector.byName('enqueue shop to mq:shop-changed');
    const dequeue = consumer.collector.byName('dequeue shop');
    const write = consumer.collector.byName('write shop to mongo:shops');
    assert.equal(enqueue.kind, 'producer');
    assert.equal(enqueue.rpcid, '0.1.1');
    assert.equal(dequeue.kind, 'consumer');
    assert.equal(dequeue.traceId, enqueue.traceId);
    assert.equal(dequeue.parentSpanId, enqueue.spanId);
    // The consuming half of the hop takes the position the producer gave it.
    assert.equal(dequeue.rpcid, '0.1.1');
    assert.equal(write.rpcid, '0.1.1.1');
    assert.equal(write.parentSpanId, dequeue.spanId);
    assert.deepEqual(dequeue.links, []);
    assert.deepEqual(consumer.stages.counters, { invalidEntities: 0, invalidTargets: 0, invalidSkipReasons: 0, invalidCalls: 0 });
  });

  it('relation link keeps the consumer in its own trace and links to the enqueue span', () => {
    const producer = service('shop-api');
    const consumer = service('shop-indexer');
    const delivered = publish(producer);
    consumer.tracer.trace('poll batch', { parent: null }, () =>
      consumer.stages.consume(shop, () => undefined, { headers: delivered, getter: amqpHeadersGetter, relation: 'link' }),
    );
    const enqueue = producer.collector.byName('enqueue shop to mq:shop-changed');
    const batch = consumer.collector.byName('poll batch');
    const consume = consumer.collector.byName('consume shop');
    assert.equal(consume.kind, 'consumer');
    assert.equal(consume.traceId, batch.traceId);
    assert.notEqual(consume.traceId, enqueue.traceId);
    assert.equal(consume.parentSpanId, batch.spanId);
    assert.equal(consume.rpcid, '0.1');
    assert.equal(consume.links.length, 1);
    assert.equal(consume.links[0]!.traceId, enqueue.traceId);
    assert.equal(consume.links[0]!.spanId, enqueue.spanId);
  });

  it('a message without trace headers falls back to the current context', () => {
    const consumer = service('shop-indexer');
    consumer.tracer.trace('poll', undefined, () =>
      consumer.stages.dequeue(shop, () => undefined, { headers: { 'content-type': 'application/json' }, getter: amqpHeadersGetter }),
    );
    const dequeue = consumer.collector.byName('dequeue shop');
    assert.equal(dequeue.parentSpanId, consumer.collector.byName('poll').spanId);
    assert.equal(consumer.stages.counters.invalidCalls, 0);
  });

  it('receive continues the caller of an HTTP request as a server span (default header getter)', () => {
    const caller = service('gateway');
    const callee = service('shop-api');
    const headers: Record<string, string> = {};
    caller.stages.write(shop, 'http:shop-api', () => caller.stages.inject(headers));
    const incoming = { Traceparent: headers['traceparent']!, TraceState: headers['tracestate']!, Host: 'x' };
    callee.stages.receive(shop, () => callee.stages.write(shop, 'mysql:user_shop', () => undefined), { headers: incoming });
    const write = caller.collector.byName('write shop to http:shop-api');
    const receive = callee.collector.byName('receive shop');
    assert.equal(write.kind, 'client');
    assert.equal(receive.kind, 'server');
    assert.equal(receive.traceId, write.traceId);
    assert.equal(receive.parentSpanId, write.spanId);
    assert.equal(receive.rpcid, write.rpcid);
    assert.equal(callee.collector.byName('write shop to mysql:user_shop').rpcid, `${write.rpcid}.1`);
  });

  it('reads NATS-style headers with their getter and carries baggage to the stage', () => {
    const producer = service('shop-api');
    const consumer = service('shop-indexer');
    const map = new Map<string, string>();
    const nats: GetSetHeaders = { get: (k) => map.get(k), set: (k, v) => void map.set(k, v), keys: () => map.keys() };
    producer.stages.enqueue(shop, 'mq:shop.changed', () =>
      producer.stages.inject(nats, { set: (c, k, v) => c.set(k, v) }),
    );
    map.set('baggage', 'tenant=acme');
    let tenant: string | undefined;
    consumer.stages.dequeue(
      shop,
      () => {
        const headers: Record<string, string> = {};
        consumer.stages.inject(headers);
        tenant = headers['baggage'];
      },
      { headers: nats, getter: natsHeadersGetter },
    );
    assert.equal(consumer.collector.byName('dequeue shop').parentSpanId, producer.collector.byName('enqueue shop to mq:shop.changed').spanId);
    assert.equal(tenant, 'tenant=acme');
  });

  it('stagesFor(tracer) uses the global propagator and the given tracer', () => {
    const consumer = service('shop-indexer');
    const producer = service('shop-api');
    const headers: Record<string, string> = {};
    producer.stages.enqueue(shop, 'mq:q', () => producer.stages.inject(headers));
    const stages = stagesFor(consumer.tracer);
    stages.consume(shop, () => undefined, { headers });
    const consume = consumer.collector.byName('consume shop');
    assert.equal(consume.traceId, producer.collector.byName('enqueue shop to mq:q').traceId);
    assert.deepEqual(consume.scope, { name: 'shop-indexer' });
  });
});
