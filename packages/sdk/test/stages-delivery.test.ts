import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ATTR } from '@linktrace/model';
import { amqpHeadersGetter, amqpHeadersSetter, type AmqpHeaders } from '../src/propagation/carriers.js';
import { stagesFor } from '../src/stages/stages.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';

function service(name: string) {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: name, processors: [collector] });
  return { collector, tracing, stages: stagesFor(tracing), tracer: tracing.getTracer(name) };
}

const shop = { type: 'shop', key: '42', version: 7 };

function publish(producer: ReturnType<typeof service>): AmqpHeaders {
  const headers: AmqpHeaders = {};
  producer.tracer.trace('POST /shops', { kind: 'server' }, () =>
    producer.stages.receive(shop, () => producer.stages.enqueue(shop, 'mq:shop-changed', () => producer.stages.inject(headers, amqpHeadersSetter))),
  );
  return headers;
}

describe('stages: the delivery option of a hand-written consumer', () => {
  it('each delivery of one message handled by hand takes its own position; the calls of each never meet', () => {
    const producer = service('shop-api');
    const delivered = publish(producer);
    // The first delivery and two redeliveries (the broker counts them), each in a process of its own.
    for (const count of [1, 2, 3]) {
      const consumer = service(`worker-${count}`);
      const userAttributes = { 'x.user': 'kept' };
      consumer.stages.consume(shop, () => consumer.stages.write(shop, 'mysql:user_shop', () => undefined), {
        headers: delivered,
        getter: amqpHeadersGetter,
        attributes: userAttributes,
        delivery: { count },
      });
      assert.deepEqual(userAttributes, { 'x.user': 'kept' }, 'the caller\'s attributes object is not changed');
      const consume = consumer.collector.byName('consume shop');
      const write = consumer.collector.byName('write shop to mysql:user_shop');
      const enqueue = producer.collector.byName('enqueue shop to mq:shop-changed');
      assert.equal(consume.parentSpanId, enqueue.spanId);
      assert.equal(consume.rpcid, count === 1 ? '0.1.1' : `0.1.1.0.${count}`);
      assert.equal(write.rpcid, count === 1 ? '0.1.1.1' : `0.1.1.0.${count}.1`);
      assert.equal(consume.attributes[ATTR.deliveryCount], count);
      assert.equal(consume.attributes[ATTR.redelivered], count === 1 ? undefined : true);
      assert.equal(consume.attributes['x.user'], 'kept');
      assert.equal(consumer.stages.counters.invalidCalls, 0);
    }
  });

  it('a redelivered flag without a count: the redeliveries this process sees take 2, 3, …', () => {
    const producer = service('shop-api');
    const delivered = publish(producer);
    const consumer = service('worker');
    for (const redelivered of [false, true, true]) {
      consumer.stages.consume(shop, () => undefined, { headers: delivered, getter: amqpHeadersGetter, delivery: { redelivered } });
    }
    assert.deepEqual(consumer.collector.spans.map((s) => s.rpcid), ['0.1.1', '0.1.1.0.2', '0.1.1.0.3']);
  });

  it('a malformed delivery option is counted as a bad call; the stage runs as without it', () => {
    const producer = service('shop-api');
    const delivered = publish(producer);
    const consumer = service('worker');
    for (const delivery of [{ count: 0 }, { count: 2.5 }, { redelivered: 'yes' }, {}, 'twice', null]) {
      consumer.stages.consume(shop, () => undefined, { headers: delivered, getter: amqpHeadersGetter, delivery: delivery as never });
    }
    assert.equal(consumer.stages.counters.invalidCalls, 6);
    assert.deepEqual(new Set(consumer.collector.spans.map((s) => s.rpcid)), new Set(['0.1.1']));
  });
});
