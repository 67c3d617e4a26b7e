import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import * as amqpCallback from 'amqplib/callback_api';
import { checkTrace } from '@linktrace/analysis';
import { ATTR, type Span } from '@linktrace/model';
import { activeContext, CollectingSpanProcessor, createTracing, runWithContext } from '../src/index.js';
import { suppressTracing } from '../src/context/suppress.js';
import { instrument, isWrapped, originalOf, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { amqplibInstrumentation, consumeBatch } from '../src/instrumentations/amqplib/index.js';
import { nowUs } from '../src/trace/clock.js';
import { attr, captureStderr, fakePackage, uniqueName, waitFor } from './mq-test-helpers.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const collected = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'amqp-test', processors: [collected] });
const tracer = tracing.getTracer('test');

function spansOf(traceId: string): Span[] {
  return collected.spans.filter((s) => s.traceId === traceId);
}

function one(spans: readonly Span[], name: string): Span {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span named ${name}; have ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

describe('amqplib instrumentation (RabbitMQ on 127.0.0.1:5672)', () => {
  let handle: InstrumentationHandle;
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  const queues: string[] = [];
  const exchanges: string[] = [];

  before(async () => {
    handle = instrument({ tracing, instrumentations: [amqplibInstrumentation()] });
    assert.deepEqual(handle.enabled, ['amqplib']);
    conn = await amqp.connect(URL);
    ch = await conn.createChannel();
  });

  after(async () => {
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    for (const e of exchanges) await ch.deleteExchange(e).catch(() => undefined);
    await conn.close();
    handle.disable();
  });

  async function newQueue(prefix = 'lt-amqp'): Promise<string> {
    const q = uniqueName(prefix);
    queues.push(q);
    await ch.assertQueue(q, { durable: false });
    return q;
  }

  it('patches the promise and callback Channel prototypes', () => {
    const req = createRequire(import.meta.url);
    const dir = dirname(req.resolve('amqplib'));
    for (const file of ['lib/channel_model.js', 'lib/callback_model.js']) {
      const proto = (req(join(dir, file)) as { Channel: { prototype: Record<string, unknown> } }).Channel.prototype;
      for (const m of ['publish', 'consume', 'get', 'ack', 'ackAll', 'nack', 'nackAll', 'reject']) assert.equal(isWrapped(proto[m]), true, `${file} ${m}`);
    }
  });

  it('sendToQueue → consume: producer enqueue, consumer dequeue child of it (active in the callback), ack = consume', async () => {
    const q = await newQueue();
    const options = { headers: { 'x-user': 'u1' }, messageId: 'm-1', correlationId: 'c-1' };
    const snapshot = structuredClone(options);
    const received: { msg: amqp.ConsumeMessage; activeSpanId: string | undefined }[] = [];
    await ch.consume(q, (msg) => {
      if (msg === null) return;
      received.push({ msg, activeSpanId: activeContext().span?.spanId });
      ch.ack(msg);
    });
    const root = tracer.startSpan('root');
    const ok = tracer.startActiveSpan('root-active', { parent: root }, (span) => {
      const r = ch.sendToQueue(q, Buffer.from('hello'), options);
      span.end();
      return r;
    });
    root.end();
    assert.equal(ok, true);
    await waitFor('delivery', () => received.length === 1);
    await waitFor('ack span', () => spansOf(root.traceId).some((s) => s.name === `ack ${q}`));
    assert.deepEqual(options, snapshot, 'the caller options object is not changed');

    const { msg, activeSpanId } = received[0]!;
    assert.equal(msg.content.toString(), 'hello');
    assert.equal(msg.properties.headers?.['x-user'], 'u1');
    assert.match(String(msg.properties.headers?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(msg.properties.messageId, 'm-1');

    const spans = spansOf(root.traceId);
    const producer = one(spans, `publish ${q}`);
    const consumer = one(spans, `process ${q}`);
    const ack = one(spans, `ack ${q}`);
    assert.equal(producer.kind, 'producer');
    assert.equal(producer.parentSpanId, one(spans, 'root-active').spanId);
    assert.equal(attr(producer, ATTR.stage), 'enqueue');
    assert.equal(attr(producer, ATTR.target), `mq:${q}`);
    assert.equal(attr(producer, 'messaging.system'), 'rabbitmq');
    assert.equal(attr(producer, 'messaging.destination.name'), q);
    assert.equal(attr(producer, 'messaging.rabbitmq.destination.routing_key'), q);
    assert.equal(attr(producer, 'messaging.message.id'), 'm-1');
    assert.equal(attr(producer, 'messaging.message.body.size'), 5);
    assert.equal(attr(producer, 'server.address'), '127.0.0.1');
    assert.equal(attr(producer, 'server.port'), 5672);
    assert.equal(String(msg.properties.headers?.traceparent).split('-')[2], producer.spanId, 'the header names the producer span');

    assert.equal(consumer.kind, 'consumer');
    assert.equal(consumer.parentSpanId, producer.spanId);
    assert.equal(attr(consumer, ATTR.stage), 'dequeue');
    assert.equal(attr(consumer, 'messaging.destination.name'), q);
    assert.equal(activeSpanId, consumer.spanId, 'the dequeue span is active in the callback');

    assert.equal(ack.parentSpanId, consumer.spanId);
    assert.equal(attr(ack, ATTR.stage), 'consume');
    assert.equal(attr(ack, 'messaging.operation.name'), 'ack');
    assert.equal(ack.links.length, 0);

    // The chain checker sees a consumed enqueue: no finding.
    const findings = checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000);
    assert.deepEqual(findings.map((f) => f.rule), []);
  });

  it('publish to an exchange: target mq:<exchange>, routing key recorded; messages equal with and without instrumentation', async () => {
    const ex = uniqueName('lt-amqp-ex');
    exchanges.push(ex);
    await ch.assertExchange(ex, 'topic', { durable: false, autoDelete: false });
    const q = await newQueue();
    await ch.bindQueue(q, ex, 'orders.#');
    const body = Buffer.from([0, 1, 2, 250, 255]);
    const root = tracer.startSpan('root');
    tracer.startActiveSpan('x', { parent: root }, (s) => {
      ch.publish(ex, 'orders.new', body, { headers: { 'x-a': 1 }, contentType: 'application/octet-stream' });
      s.end();
    });
    const traced = await pull(q);
    handle.disable();
    try {
      ch.publish(ex, 'orders.new', body, { headers: { 'x-a': 1 }, contentType: 'application/octet-stream' });
      const plain = await pull(q);
      assert.deepEqual(traced.content, plain.content);
      assert.deepEqual(traced.fields.routingKey, plain.fields.routingKey);
      assert.equal(plain.properties.headers?.traceparent, undefined);
      const { traceparent: _tp, tracestate: _ts, ...tracedUserHeaders } = traced.properties.headers ?? {};
      assert.deepEqual(tracedUserHeaders, plain.properties.headers);
      assert.equal(traced.properties.contentType, plain.properties.contentType);
    } finally {
      handle = instrument({ tracing, instrumentations: [amqplibInstrumentation()] });
    }
    const producer = one(spansOf(root.traceId), `publish ${ex}`);
    assert.equal(attr(producer, ATTR.target), `mq:${ex}`);
    assert.equal(attr(producer, 'messaging.rabbitmq.destination.routing_key'), 'orders.new');
  });

  async function pull(q: string): Promise<amqp.GetMessage> {
    for (let i = 0; i < 200; i++) {
      const m = await originalOf(ch.get).call(ch, q, { noAck: true });
      if (m !== false) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`nothing on ${q}`);
  }

  it('get (pull) is a dequeue child of the producer; nack and reject are the consume stage', async () => {
    const q = await newQueue();
    const root = tracer.startSpan('root');
    tracer.startActiveSpan('x', { parent: root }, (s) => {
      ch.sendToQueue(q, Buffer.from('a'));
      ch.sendToQueue(q, Buffer.from('b'));
      s.end();
    });
    let first: amqp.GetMessage | false = false;
    for (let i = 0; i < 200 && first === false; i++) {
      first = await ch.get(q);
      if (first === false) await new Promise((r) => setTimeout(r, 10));
    }
    assert.notEqual(first, false);
    const second = await ch.get(q);
    assert.notEqual(second, false);
    ch.nack(first as amqp.GetMessage, false, false);
    ch.reject(second as amqp.GetMessage, false);
    const spans = spansOf(root.traceId);
    const producers = spans.filter((s) => s.name === `publish ${q}`);
    const gets = spans.filter((s) => s.name === `receive ${q}`);
    assert.equal(producers.length, 2);
    assert.equal(gets.length, 2);
    for (const g of gets) {
      assert.equal(attr(g, ATTR.stage), 'dequeue');
      assert.ok(producers.some((p) => p.spanId === g.parentSpanId));
    }
    const nack = one(spans, `nack ${q}`);
    const reject = one(spans, `reject ${q}`);
    assert.equal(attr(nack, ATTR.stage), 'consume');
    assert.equal(attr(reject, ATTR.stage), 'consume');
    assert.ok(gets.some((g) => g.spanId === nack.parentSpanId));
    assert.ok(gets.some((g) => g.spanId === reject.parentSpanId));
    assert.equal(await ch.get(q), false, 'an empty queue still answers false');
  });

  it('batch: ack(msg, allUpTo) and consumeBatch link to every producer span', async () => {
    const q = await newQueue();
    const batch: amqp.ConsumeMessage[] = [];
    await ch.consume(q, (msg) => {
      if (msg !== null) batch.push(msg);
    });
    const producerTraces: string[] = [];
    for (let i = 0; i < 3; i++) {
      const root = tracer.startSpan(`batch-root-${i}`, { parent: null });
      producerTraces.push(root.traceId);
      tracer.startActiveSpan('x', { parent: root }, (s) => {
        ch.sendToQueue(q, Buffer.from(`m${i}`));
        s.end();
      });
      root.end();
    }
    await waitFor('three deliveries', () => batch.length === 3);
    const producerIds = producerTraces.map((t) => one(spansOf(t), `publish ${q}`).spanId);

    let activeInBatch: string | undefined;
    const returned = await consumeBatch(batch, async (span) => {
      activeInBatch = activeContext().span?.spanId;
      await new Promise((r) => setTimeout(r, 1));
      return span.spanId;
    }, { queue: q });
    const batchSpan = collected.spans.find((s) => s.spanId === returned)!;
    assert.equal(activeInBatch, returned);
    assert.equal(attr(batchSpan, ATTR.stage), 'consume');
    assert.equal(attr(batchSpan, 'messaging.batch.message_count'), 3);
    assert.deepEqual(batchSpan.links.map((l) => l.spanId).sort(), [...producerIds].sort());

    ch.ack(batch[2]!, true);
    const ackSpan = one(spansOf(producerTraces[2]!), `ack ${q}`);
    assert.equal(attr(ackSpan, ATTR.stage), 'consume');
    assert.equal(attr(ackSpan, 'messaging.batch.message_count'), 3);
    assert.deepEqual(ackSpan.links.map((l) => l.spanId).sort(), [...producerIds].sort());
    // Each message also has its own dequeue span below its producer.
    for (const t of producerTraces) assert.equal(attr(one(spansOf(t), `process ${q}`), ATTR.stage), 'dequeue');
  });

  it('the callback API: sendToQueue, consume, get and ack', async () => {
    const q = uniqueName('lt-amqp-cb');
    const cconn = await new Promise<amqpCallback.Connection>((resolve, reject) =>
      amqpCallback.connect(URL, (err: unknown, c: amqpCallback.Connection) => (err ? reject(err as Error) : resolve(c))),
    );
    const cch = await new Promise<amqpCallback.Channel>((resolve, reject) =>
      cconn.createChannel((err: unknown, c: amqpCallback.Channel) => (err ? reject(err as Error) : resolve(c))),
    );
    try {
      await new Promise<void>((resolve, reject) => cch.assertQueue(q, { durable: false }, (err: unknown) => (err ? reject(err as Error) : resolve())));
      const root = tracer.startSpan('root');
      tracer.startActiveSpan('x', { parent: root }, (s) => {
        cch.sendToQueue(q, Buffer.from('cb'));
        s.end();
      });
      let got: amqpCallback.GetMessage | false = false;
      let activeInGet: string | undefined;
      for (let i = 0; i < 200 && got === false; i++) {
        got = await new Promise<amqpCallback.GetMessage | false>((resolve, reject) =>
          cch.get(q, {}, (err: unknown, m: amqpCallback.GetMessage | false) => {
            activeInGet = activeContext().span?.spanId;
            if (err) reject(err as Error);
            else resolve(m);
          }),
        );
        if (got === false) await new Promise((r) => setTimeout(r, 10));
      }
      assert.notEqual(got, false);
      cch.ack(got as amqpCallback.GetMessage);
      const spans = spansOf(root.traceId);
      const producer = one(spans, `publish ${q}`);
      const get = one(spans, `receive ${q}`);
      assert.equal(get.parentSpanId, producer.spanId);
      assert.equal(activeInGet, get.spanId);
      assert.equal(one(spans, `ack ${q}`).parentSpanId, get.spanId);

      // consume with the callback API
      const delivered: string[] = [];
      await new Promise<void>((resolve, reject) =>
        cch.consume(q, (m: amqpCallback.ConsumeMessage | null) => {
          if (m === null) return;
          delivered.push(activeContext().span?.spanId ?? '');
          cch.ack(m);
        }, {}, (err: unknown) => (err ? reject(err as Error) : resolve())),
      );
      const root2 = tracer.startSpan('root2');
      tracer.startActiveSpan('x', { parent: root2 }, (s) => {
        cch.sendToQueue(q, Buffer.from('cb2'));
        s.end();
      });
      await waitFor('callback delivery', () => delivered.length === 1);
      const process = one(spansOf(root2.traceId), `process ${q}`);
      assert.equal(process.parentSpanId, one(spansOf(root2.traceId), `publish ${q}`).spanId);
      assert.equal(delivered[0], process.spanId);
    } finally {
      await new Promise<void>((resolve) => cch.deleteQueue(q, {}, () => resolve()));
      await new Promise<void>((resolve) => cconn.close(() => resolve()));
    }
  });

  it('publish on a closed channel throws the same error as without instrumentation, and the span records it', async () => {
    const c2 = await conn.createChannel();
    await c2.close();
    const q = uniqueName('lt-amqp-closed');
    let plain: unknown;
    try {
      originalOf(c2.sendToQueue).call(c2, q, Buffer.from('x'));
    } catch (error) {
      plain = error;
    }
    let traced: unknown;
    const root = tracer.startSpan('root');
    tracer.startActiveSpan('x', { parent: root }, (s) => {
      try {
        c2.sendToQueue(q, Buffer.from('x'));
      } catch (error) {
        traced = error;
      }
      s.end();
    });
    assert.ok(plain instanceof Error);
    assert.ok(traced instanceof Error);
    assert.equal(traced.constructor, plain.constructor);
    assert.equal(traced.message, plain.message);
    const producer = one(spansOf(root.traceId), `publish ${q}`);
    assert.equal(producer.status.code, 'error');
  });

  it('a publish in a suppressed context (e.g. the exporter) makes no span; the message still carries no injected context', async () => {
    const q = await newQueue('lt-amqp-suppressed');
    const before = collected.spans.length;
    const root = tracer.startSpan('root');
    const ok = runWithContext(suppressTracing(activeContext().withSpan(root)), () => ch.sendToQueue(q, Buffer.from('quiet')));
    root.end();
    assert.equal(ok, true);
    // Read back suppressed too: a get is traced otherwise.
    let msg: amqp.GetMessage | false = false;
    for (let i = 0; i < 100 && msg === false; i++) {
      msg = await runWithContext(suppressTracing(), () => ch.get(q, { noAck: true }));
      if (msg === false) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(msg !== false, 'the message arrived');
    assert.equal(msg.content.toString(), 'quiet');
    assert.equal(msg.properties.headers?.traceparent, undefined, 'no context injected');
    assert.deepEqual(collected.spans.slice(before).map((s) => s.name), ['root'], 'only the root span: no publish, no get');
  });

  it('a publish that nobody consumes is found by the chain checker as not-consumed', async () => {
    const q = await newQueue('lt-amqp-orphan');
    const root = tracer.startSpan('root');
    tracer.startActiveSpan('x', { parent: root }, (s) => {
      ch.sendToQueue(q, Buffer.from('nobody listens'));
      s.end();
    });
    root.end();
    const spans = spansOf(root.traceId);
    const producer = one(spans, `publish ${q}`);
    const findings = checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000);
    assert.deepEqual(findings.map((f) => [f.rule, f.spanId]), [['not-consumed', producer.spanId]]);
    assert.equal(findings[0]!.target, `mq:${q}`);
    await ch.purgeQueue(q);
  });

  it('an amqplib of an unexpected shape is left untouched, with one warning', () => {
    const root = fakePackage('amqplib', {
      'index.js': 'module.exports = require("./lib/channel_model.js");\n',
      'lib/channel_model.js': 'class Channel { publish() { return "plain"; } }\nexports.Channel = Channel;\n',
      'lib/callback_model.js': 'exports.nothing = 1;\n',
    });
    // Only the fake is under test: the real amqplib is restored and re-patched after.
    handle.disable();
    const fakeHandle = instrument({ tracing, instrumentations: [amqplibInstrumentation()] });
    try {
      const { result: mod, text } = captureStderr(() => createRequire(join(root, 'app.js'))('amqplib') as { Channel: new () => { publish(): string } });
      assert.equal(isWrapped(mod.Channel.prototype.publish), false);
      assert.equal(new mod.Channel().publish(), 'plain');
      assert.match(text, /amqplib.*could not patch amqplib@0\.0\.1-fake/);
    } finally {
      fakeHandle.disable();
      handle = instrument({ tracing, instrumentations: [amqplibInstrumentation()] });
    }
  });
});
