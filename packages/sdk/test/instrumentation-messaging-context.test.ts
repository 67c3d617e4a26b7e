/**
 * Issue 10 item 1, for queues: code that handles a message sees the message's consumer span as the
 * active context, so that what it calls (an outgoing HTTP call, a database write, a publish) joins
 * the message's trace: inside a callback, after an `await` in it, in the body of a
 * `for await (const m of …)` loop before and after an `await`, and after `await consumer.next()`.
 * Against the real NATS JetStream (127.0.0.1:4222) and RabbitMQ (127.0.0.1:5672).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import * as amqpCallback from 'amqplib/callback_api';
import { AckPolicy, connect, consumerOpts, StringCodec, type JsMsg, type Msg, type NatsConnection } from 'nats';
import type { Span } from '@linktrace/model';
import { activeContext, CollectingSpanProcessor, createTracing, runWithContext } from '../src/index.js';
import { instrument, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { amqplibInstrumentation } from '../src/instrumentations/amqplib/index.js';
import { natsInstrumentation } from '../src/instrumentations/nats/index.js';
import { uniqueName, waitFor } from './mq-test-helpers.js';

const collected = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'mq-context-test', processors: [collected] });
const tracer = tracing.getTracer('test');
const sc = StringCodec();
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function named(name: string): Span {
  const found = collected.spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span named ${name}; have ${collected.spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** What a handler does for message `body`: a call right away, and one after an await. */
async function handle(body: string): Promise<void> {
  tracer.startSpan(`call ${body}`, { kind: 'client' }).end();
  await tick();
  tracer.startSpan(`late call ${body}`, { kind: 'client' }).end();
}

/** Publishes each body under a root span of its own; returns body → trace id. */
async function publishEach(bodies: readonly string[], publish: (body: string) => unknown): Promise<Map<string, string>> {
  const traces = new Map<string, string>();
  for (const body of bodies) {
    const root = tracer.startSpan(`root ${body}`, { parent: null });
    await runWithContext(activeContext().withSpan(root), () => publish(body));
    root.end();
    traces.set(body, root.traceId);
  }
  return traces;
}

/** Both calls made for `body` are children of that message's dequeue span, in its trace. */
function assertJoined(traces: Map<string, string>, dequeueName: string): void {
  for (const [body, traceId] of traces) {
    const dequeue = collected.spans.find((s) => s.traceId === traceId && s.name === dequeueName);
    assert.ok(dequeue !== undefined, `a ${dequeueName} span in the trace of ${body}`);
    for (const call of [`call ${body}`, `late call ${body}`]) {
      const span = named(call);
      assert.equal(span.traceId, traceId, `${call} is in the message's trace`);
      assert.equal(span.parentSpanId, dequeue.spanId, `${call} is a child of the delivery`);
    }
  }
}

describe('the consumer span is active where a message is handled', () => {
  let handleInst: InstrumentationHandle;
  let nc: NatsConnection;
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  const streams: string[] = [];
  const queues: string[] = [];

  before(async () => {
    handleInst = instrument({ tracing, instrumentations: [natsInstrumentation(), amqplibInstrumentation()] });
    nc = await connect({ servers: '127.0.0.1:4222' });
    conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    ch = await conn.createChannel();
  });

  after(async () => {
    const jsm = await nc.jetstreamManager();
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.drain();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    await conn.close();
    handleInst.disable();
  });

  /** A stream with a durable explicit-ack consumer `workers`; returns its subject. */
  async function newStream(tag: string): Promise<{ stream: string; subject: string }> {
    const stream = uniqueName(`LT_CTX_${tag}`).replace(/[-.]/g, '_');
    const subject = `${stream.toLowerCase()}.orders`;
    streams.push(stream);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject] });
    await jsm.consumers.add(stream, { durable_name: 'workers', ack_policy: AckPolicy.Explicit });
    return { stream, subject };
  }

  async function jsPublish(subject: string, bodies: readonly string[]): Promise<Map<string, string>> {
    const js = nc.jetstream();
    return publishEach(bodies, (body) => js.publish(subject, sc.encode(body)));
  }

  it('NATS core: the body of a for-await loop over a subscription, before and after an await; not after the loop', async () => {
    const subject = uniqueName('lt.ctx.core').replace(/-/g, '_');
    const sub = nc.subscribe(subject, { max: 2 });
    const outer = tracer.startSpan('loop owner', { parent: null });
    const done = runWithContext(activeContext().withSpan(outer), async () => {
      for await (const m of sub) await handle(sc.decode(m.data));
      tracer.startSpan('after the loop').end();
    });
    await nc.flush();
    const traces = await publishEach(['core-a', 'core-b'], (body) => nc.publish(subject, sc.encode(body)));
    await done;
    outer.end();
    assertJoined(traces, `process ${subject}`);
    assert.equal(named('after the loop').parentSpanId, outer.spanId, 'after the loop, the loop owner is active again');
  });

  it('NATS core: loops nest: after an inner loop over another subscription, the outer message is active again', async () => {
    const outerSubject = uniqueName('lt.ctx.outer').replace(/-/g, '_');
    const innerSubject = uniqueName('lt.ctx.inner').replace(/-/g, '_');
    const outerSub = nc.subscribe(outerSubject, { max: 1 });
    const innerSub = nc.subscribe(innerSubject, { max: 1 });
    let innerTraces: Map<string, string> | undefined;
    const done = (async () => {
      for await (const m of outerSub) {
        innerTraces = await publishEach(['inner-a'], (body) => nc.publish(innerSubject, sc.encode(body)));
        for await (const inner of innerSub) await handle(sc.decode(inner.data));
        tracer.startSpan(`call ${sc.decode(m.data)}`).end();
        await tick();
        tracer.startSpan(`late call ${sc.decode(m.data)}`).end();
      }
    })();
    await nc.flush();
    const outerTraces = await publishEach(['outer-a'], (body) => nc.publish(outerSubject, sc.encode(body)));
    await done;
    assertJoined(outerTraces, `process ${outerSubject}`);
    assertJoined(innerTraces!, `process ${innerSubject}`);
  });

  it('NATS core: an async callback, after an await', async () => {
    const subject = uniqueName('lt.ctx.cb').replace(/-/g, '_');
    let handled = 0;
    const sub = nc.subscribe(subject, { callback: (_e, m: Msg) => void handle(sc.decode(m.data)).then(() => handled++) });
    await nc.flush();
    const traces = await publishEach(['cb-a'], (body) => nc.publish(subject, sc.encode(body)));
    await waitFor('the callback', () => handled === 1);
    sub.unsubscribe();
    assertJoined(traces, `process ${subject}`);
  });

  it('JetStream consume(): the for-await body, before and after an await; break restores the loop owner', async () => {
    const { stream, subject } = await newStream('CONSUME');
    const traces = await jsPublish(subject, ['consume-a', 'consume-b']);
    const consumer = await nc.jetstream().consumers.get(stream, 'workers');
    const messages = await consumer.consume({ max_messages: 10 });
    const outer = tracer.startSpan('consume owner', { parent: null });
    await runWithContext(activeContext().withSpan(outer), async () => {
      let n = 0;
      for await (const m of messages) {
        await handle(sc.decode(m.data));
        m.ack();
        if (++n === 2) break;
      }
      tracer.startSpan('after consume').end();
    });
    outer.end();
    assertJoined(traces, `receive ${subject}`);
    assert.equal(named('after consume').parentSpanId, outer.spanId);
  });

  it('JetStream fetch(): the for-await body', async () => {
    const { stream, subject } = await newStream('FETCH');
    const traces = await jsPublish(subject, ['fetch-a', 'fetch-b']);
    const consumer = await nc.jetstream().consumers.get(stream, 'workers');
    const batch = await consumer.fetch({ max_messages: 2, expires: 2000 });
    for await (const m of batch) {
      await handle(sc.decode(m.data));
      m.ack();
    }
    assertJoined(traces, `receive ${subject}`);
  });

  it('JetStream consume({ callback }): the callback, after an await', async () => {
    const { stream, subject } = await newStream('CALLBACK');
    const traces = await jsPublish(subject, ['jscb-a', 'jscb-b']);
    const consumer = await nc.jetstream().consumers.get(stream, 'workers');
    let handled = 0;
    const messages = await consumer.consume({
      max_messages: 10,
      callback: (m: JsMsg) => void handle(sc.decode(m.data)).then(() => (m.ack(), handled++)),
    });
    await waitFor('both messages', () => handled === 2);
    await messages.close();
    assertJoined(traces, `receive ${subject}`);
  });

  it('JetStream next(): the code after the await', async () => {
    const { stream, subject } = await newStream('NEXT');
    const traces = await jsPublish(subject, ['next-a', 'next-b']);
    const consumer = await nc.jetstream().consumers.get(stream, 'workers');
    for (let i = 0; i < 2; i++) {
      const m = await consumer.next({ expires: 5000 });
      assert.ok(m !== null);
      await handle(sc.decode(m.data));
      m.ack();
    }
    assertJoined(traces, `receive ${subject}`);
  });

  it('JetStream ordered consumer: the for-await body of consume()', async () => {
    const { stream, subject } = await newStream('ORDERED');
    const traces = await jsPublish(subject, ['ordered-a']);
    const consumer = await nc.jetstream().consumers.get(stream);
    const messages = await consumer.consume();
    for await (const m of messages) {
      await handle(sc.decode(m.data));
      break;
    }
    assertJoined(traces, `receive ${subject}`);
  });

  it('JetStream legacy push subscription: the callback, and the for-await body', async () => {
    const { subject } = await newStream('PUSH');
    const traces = await jsPublish(subject, ['push-a', 'push-b']);
    const js = nc.jetstream();
    let handled = 0;
    const withCallback = consumerOpts().deliverTo(uniqueName('lt.ctx.deliver').replace(/-/g, '_')).ackExplicit().deliverAll().filterSubject(subject);
    withCallback.callback((_e, m) => {
      if (m === null || sc.decode(m.data) !== 'push-a') return;
      void handle('push-a').then(() => (m.ack(), handled++));
    });
    const cbSub = await js.subscribe(subject, withCallback);
    await waitFor('the push callback', () => handled === 1);
    cbSub.unsubscribe();
    const iterated = await js.subscribe(subject, consumerOpts().deliverTo(uniqueName('lt.ctx.deliver2').replace(/-/g, '_')).ackExplicit().deliverAll().filterSubject(subject));
    for await (const m of iterated) {
      m.ack();
      if (sc.decode(m.data) !== 'push-b') continue;
      await handle('push-b');
      break;
    }
    const pushA = collected.spans.filter((s) => s.traceId === traces.get('push-a') && s.name === `receive ${subject}`);
    const pushB = collected.spans.filter((s) => s.traceId === traces.get('push-b') && s.name === `receive ${subject}`);
    for (const [body, deliveries] of [['push-a', pushA], ['push-b', pushB]] as const) {
      for (const call of [`call ${body}`, `late call ${body}`]) {
        assert.ok(deliveries.some((d) => d.spanId === named(call).parentSpanId), `${call} is a child of a delivery of ${body}`);
      }
    }
  });

  it('RabbitMQ consume (promise and callback API): an async callback, after an await', async () => {
    const q = uniqueName('lt-ctx');
    queues.push(q);
    await ch.assertQueue(q, { durable: false });
    let handled = 0;
    const { consumerTag } = await ch.consume(q, (msg) => {
      if (msg === null) return;
      void handle(msg.content.toString()).then(() => (ch.ack(msg), handled++));
    });
    const traces = await publishEach(['amqp-a'], (body) => ch.sendToQueue(q, Buffer.from(body)));
    await waitFor('the consume callback', () => handled === 1);
    await ch.cancel(consumerTag);

    const cbConn = await new Promise<amqpCallback.Connection>((resolve, reject) => amqpCallback.connect('amqp://guest:guest@127.0.0.1:5672', (e, c) => (e ? reject(e) : resolve(c))));
    const cbCh = await new Promise<amqpCallback.Channel>((resolve, reject) => cbConn.createChannel((e, c) => (e ? reject(e) : resolve(c))));
    cbCh.consume(q, (msg) => {
      if (msg === null) return;
      void handle(msg.content.toString()).then(() => (cbCh.ack(msg), handled++));
    });
    for (const [body, traceId] of await publishEach(['amqp-cb'], (b) => ch.sendToQueue(q, Buffer.from(b)))) traces.set(body, traceId);
    await waitFor('the callback-API consume', () => handled === 2);
    await new Promise((resolve) => cbConn.close(resolve));
    assertJoined(traces, `process ${q}`);
  });

  it('RabbitMQ get (promise API): the code after the await', async () => {
    const q = uniqueName('lt-ctx-get');
    queues.push(q);
    await ch.assertQueue(q, { durable: false });
    const traces = await publishEach(['get-a'], (body) => ch.sendToQueue(q, Buffer.from(body)));
    let m: amqp.GetMessage | false = false;
    for (let i = 0; i < 200 && m === false; i++) {
      m = await ch.get(q);
      if (m === false) await tick();
    }
    assert.ok(m !== false);
    await handle(m.content.toString());
    ch.ack(m);
    assertJoined(traces, `receive ${q}`);
  });
});
