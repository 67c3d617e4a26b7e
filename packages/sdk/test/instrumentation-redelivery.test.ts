/**
 * Item 9 of issue 10: a message delivered again (nack with requeue, a channel closed without ack, a
 * JetStream nak) takes its own position under the same producer, so the calls of each delivery have
 * positions of their own, and the checker's duplicate-write names both deliveries. Against the real
 * RabbitMQ (127.0.0.1:5672) and NATS JetStream (127.0.0.1:4222).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { AckPolicy, connect, StringCodec, type JsMsg, type NatsConnection } from 'nats';
import { checkTrace } from '@linktrace/analysis';
import { ATTR, type Span } from '@linktrace/model';
import { activeContext, CollectingSpanProcessor, createTracing, runWithContext } from '../src/index.js';
import { instrument, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { amqplibInstrumentation } from '../src/instrumentations/amqplib/index.js';
import { natsInstrumentation, natsMessageContext } from '../src/instrumentations/nats/index.js';
import { nowUs } from '../src/trace/clock.js';
import { attr, uniqueName, waitFor } from './mq-test-helpers.js';

const collected = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'redelivery-test', processors: [collected] });
const tracer = tracing.getTracer('test');
const sc = StringCodec();

function spansOf(traceId: string): Span[] {
  return collected.spans.filter((s) => s.traceId === traceId);
}

/** The write a handler makes for every delivery: the same entity version to the same table. */
function writeShop(): void {
  tracer
    .startSpan('INSERT user_shop', {
      kind: 'client',
      attributes: { [ATTR.stage]: 'write', [ATTR.entityType]: 'shop', [ATTR.entityKey]: '42', [ATTR.entityVersion]: 7, [ATTR.target]: 'mysql:user_shop' },
    })
    .end();
}

/** Publishes under a fresh root span; returns the trace id. */
async function publishInRoot(publish: () => unknown): Promise<string> {
  const root = tracer.startSpan('root', { parent: null });
  await runWithContext(activeContext().withSpan(root), publish);
  root.end();
  return root.traceId;
}

/**
 * What every redelivery test checks: the deliveries are children of the one producer span, the
 * first shares its position P and the n-th takes P.0.n; every span below a delivery has a position
 * no other span of the trace has; the checker reports one duplicate-write naming every delivery.
 */
function assertDistinctDeliveries(traceId: string, dequeueName: string, counts: readonly (number | undefined)[]): Span[] {
  const spans = spansOf(traceId);
  const producer = spans.find((s) => s.kind === 'producer')!;
  const deliveries = spans.filter((s) => s.name === dequeueName).sort((a, b) => a.startUs - b.startUs);
  assert.equal(deliveries.length, counts.length, `deliveries: ${spans.map((s) => `${s.name}@${s.rpcid}`).join(', ')}`);
  const p = producer.rpcid!;
  for (const [i, d] of deliveries.entries()) {
    assert.equal(d.parentSpanId, producer.spanId, 'every delivery is a child of the producer span');
    assert.equal(d.rpcid, i === 0 ? p : `${p}.0.${i + 1}`);
    assert.equal(attr(d, ATTR.deliveryCount), counts[i]);
    assert.equal(attr(d, ATTR.redelivered), i === 0 ? undefined : true);
  }
  const writes = spans.filter((s) => s.name === 'INSERT user_shop');
  assert.equal(writes.length, deliveries.length);
  for (const [i, w] of writes.sort((a, b) => a.startUs - b.startUs).entries()) assert.equal(w.parentSpanId, deliveries[i]!.spanId);
  // The consumer half of the first delivery shares its producer's position (as a server shares its client's); nothing else repeats.
  const positions = spans.filter((s) => s !== producer).map((s) => s.rpcid!);
  assert.equal(new Set(positions).size, positions.length, `positions repeat: ${positions.join(' ')}`);
  const findings = checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000);
  assert.deepEqual(findings.map((f) => f.rule), ['duplicate-write']);
  const f = findings[0]!;
  assert.deepEqual(f.deliveries?.map((d) => [d.spanId, d.rpcid]), deliveries.map((d) => [d.spanId, d.rpcid]));
  for (const d of deliveries) assert.ok(f.message.includes(`span ${d.spanId} at ${d.rpcid}`), f.message);
  assert.match(f.message, new RegExp(`by ${deliveries.length} deliveries of one message`));
  return spans;
}

describe('redelivery positions (RabbitMQ 127.0.0.1:5672, NATS JetStream 127.0.0.1:4222)', () => {
  let handle: InstrumentationHandle;
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  let nc: NatsConnection;
  const queues: string[] = [];
  const streams: string[] = [];

  before(async () => {
    handle = instrument({ tracing, instrumentations: [amqplibInstrumentation(), natsInstrumentation()] });
    conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    ch = await conn.createChannel();
    nc = await connect({ servers: '127.0.0.1:4222' });
  });

  after(async () => {
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    await conn.close();
    const jsm = await nc.jetstreamManager();
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.drain();
    handle.disable();
  });

  it('RabbitMQ classic queue, nack with requeue twice: deliveries at P, P.0.2, P.0.3', async () => {
    const q = uniqueName('lt-redeliver');
    queues.push(q);
    await ch.assertQueue(q, { durable: false });
    let n = 0;
    const { consumerTag } = await ch.consume(q, (msg) => {
      if (msg === null) return;
      writeShop();
      if (++n < 3) ch.nack(msg, false, true);
      else ch.ack(msg);
    });
    const traceId = await publishInRoot(() => ch.sendToQueue(q, Buffer.from('shop 42')));
    await waitFor('three deliveries', () => n === 3 && spansOf(traceId).some((s) => s.name === `ack ${q}`));
    await ch.cancel(consumerTag);
    // A classic queue only flags a redelivery: the count is known for the first delivery alone.
    const spans = assertDistinctDeliveries(traceId, `process ${q}`, [1, undefined, undefined]);
    const settles = spans.filter((s) => s.name === `nack ${q}` || s.name === `ack ${q}`).map((s) => s.rpcid);
    assert.equal(settles.length, 3);
  });

  it('RabbitMQ quorum queue, channel closed without ack, redelivered on another connection: the count comes with the message', async () => {
    const q = uniqueName('lt-redeliver-quorum');
    queues.push(q);
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    // The first consumer is on a connection of its own (another process, as far as the broker knows): it takes the message and dies.
    const other = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const dying = await other.createChannel();
    let taken = false;
    await dying.consume(q, (msg) => {
      if (msg === null) return;
      writeShop();
      taken = true;
    });
    const traceId = await publishInRoot(() => ch.sendToQueue(q, Buffer.from('shop 42')));
    await waitFor('the first delivery', () => taken);
    await other.close();
    let again: amqp.ConsumeMessage | undefined;
    const { consumerTag } = await ch.consume(q, (msg) => {
      if (msg === null) return;
      writeShop();
      again = msg;
      ch.ack(msg);
    });
    await waitFor('the redelivery', () => again !== undefined && spansOf(traceId).some((s) => s.name === `ack ${q}`));
    await ch.cancel(consumerTag);
    assert.equal(again!.fields.redelivered, true);
    assertDistinctDeliveries(traceId, `process ${q}`, [1, 2]);
  });

  it('JetStream: a nak redelivers; the second delivery, fetched on another connection, takes P.0.2 from the delivery count', async () => {
    const stream = uniqueName('LT_REDELIVER').replace(/[-.]/g, '_');
    const subject = `${stream.toLowerCase()}.orders`;
    streams.push(stream);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject] });
    await jsm.consumers.add(stream, { durable_name: 'workers', ack_policy: AckPolicy.Explicit });
    const traceId = await publishInRoot(() => nc.jetstream().publish(subject, sc.encode('shop 42')));
    const handleOnce = async (connection: NatsConnection, settle: (m: JsMsg) => void): Promise<void> => {
      const consumer = await connection.jetstream().consumers.get(stream, 'workers');
      const m = await consumer.next({ expires: 5000 });
      assert.ok(m !== null);
      runWithContext(natsMessageContext(m), writeShop);
      settle(m);
    };
    await handleOnce(nc, (m) => m.nak());
    const other = await connect({ servers: '127.0.0.1:4222' });
    try {
      await handleOnce(other, (m) => m.ack());
      await other.flush();
    } finally {
      await other.close();
    }
    assertDistinctDeliveries(traceId, `receive ${subject}`, [1, 2]);
  });
});
