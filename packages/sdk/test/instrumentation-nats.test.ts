import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, connect, headers, StringCodec, type NatsConnection } from 'nats';
import { checkTrace } from '@linktrace/analysis';
import { ATTR, type Span } from '@linktrace/model';
import { activeContext, CollectingSpanProcessor, createTracing, runWithContext } from '../src/index.js';
import { instrument, isWrapped, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { natsInstrumentation, natsMessageContext } from '../src/instrumentations/nats/index.js';
import { suppressTracing } from '../src/context/suppress.js';
import { nowUs } from '../src/trace/clock.js';
import { attr, captureStderr, fakePackage, uniqueName, waitFor } from './mq-test-helpers.js';

const collected = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'nats-test', processors: [collected] });
const tracer = tracing.getTracer('test');
const sc = StringCodec();

function spansOf(traceId: string): Span[] {
  return collected.spans.filter((s) => s.traceId === traceId);
}

function one(spans: readonly Span[], name: string): Span {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span named ${name}; have ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** Runs `fn` inside a fresh root span (ended after), returning the trace id. */
function inRoot(fn: () => void): string {
  const root = tracer.startSpan('root', { parent: null });
  tracer.startActiveSpan('x', { parent: root }, (s) => {
    fn();
    s.end();
  });
  root.end();
  return root.traceId;
}

describe('nats instrumentation (NATS with JetStream on 127.0.0.1:4222)', () => {
  let handle: InstrumentationHandle;
  let nc: NatsConnection;
  const streams: string[] = [];

  before(async () => {
    handle = instrument({ tracing, instrumentations: [natsInstrumentation()] });
    nc = await connect({ servers: '127.0.0.1:4222' });
  });

  after(async () => {
    const jsm = await nc.jetstreamManager();
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.drain();
    handle.disable();
  });

  it('core publish → callback subscription: enqueue producer, dequeue child active in the callback, headers kept', async () => {
    const subject = uniqueName('lt.nats').replace(/-/g, '_');
    const got: { data: string; user: string | undefined; active: string | undefined }[] = [];
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        got.push({ data: sc.decode(msg.data), user: msg.headers?.get('x-user'), active: activeContext().span?.spanId });
      },
    });
    await nc.flush();
    const h = headers();
    h.set('x-user', 'u1');
    const options = { headers: h };
    const traceId = inRoot(() => nc.publish(subject, sc.encode('hello'), options));
    await waitFor('delivery', () => got.length === 1);
    sub.unsubscribe();
    assert.deepEqual([...h.keys()], ['x-user'], 'the caller headers are not changed');
    assert.equal(options.headers, h);
    const spans = spansOf(traceId);
    const producer = one(spans, `publish ${subject}`);
    const consumer = one(spans, `process ${subject}`);
    assert.equal(got[0]!.data, 'hello');
    assert.equal(got[0]!.user, 'u1');
    assert.equal(producer.kind, 'producer');
    assert.equal(attr(producer, ATTR.stage), 'enqueue');
    assert.equal(attr(producer, ATTR.target), `mq:${subject}`);
    assert.equal(attr(producer, 'messaging.system'), 'nats');
    assert.equal(attr(producer, 'messaging.message.body.size'), 5);
    assert.equal(attr(producer, 'server.port'), 4222);
    assert.equal(consumer.parentSpanId, producer.spanId);
    assert.equal(consumer.kind, 'consumer');
    assert.equal(attr(consumer, ATTR.stage), 'dequeue');
    assert.equal(got[0]!.active, consumer.spanId);
    assert.deepEqual(checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000).map((f) => f.rule), []);
  });

  it('async-iterator subscription: dequeue child of the producer, natsMessageContext parents work below it', async () => {
    const subject = uniqueName('lt.nats.it').replace(/-/g, '_');
    const sub = nc.subscribe(subject, { max: 2 });
    const seen: string[] = [];
    const done = (async () => {
      for await (const m of sub) {
        runWithContext(natsMessageContext(m), () => tracer.startSpan(`work ${sc.decode(m.data)}`).end());
        seen.push(sc.decode(m.data));
      }
    })();
    await nc.flush();
    const t1 = inRoot(() => nc.publish(subject, sc.encode('a')));
    const t2 = inRoot(() => nc.publish(subject));
    await done;
    assert.deepEqual(seen, ['a', '']);
    for (const [t, body] of [[t1, 'a'], [t2, '']] as const) {
      const spans = spansOf(t);
      const producer = one(spans, `publish ${subject}`);
      const consumer = one(spans, `process ${subject}`);
      assert.equal(consumer.parentSpanId, producer.spanId);
      assert.equal(one(spans, `work ${body}`).parentSpanId, consumer.spanId);
    }
  });

  it('request → respond: the responder dequeue is a child of the request; the reply comes back unchanged', async () => {
    const subject = uniqueName('lt.nats.rr').replace(/-/g, '_');
    const sub = nc.subscribe(subject, { callback: (_e, m) => m.respond(sc.encode(`re:${sc.decode(m.data)}`)) });
    await nc.flush();
    const root = tracer.startSpan('root', { parent: null });
    const reply = await runWithContext(activeContext().withSpan(root), () => nc.request(subject, sc.encode('q'), { timeout: 2000 }));
    root.end();
    sub.unsubscribe();
    assert.equal(sc.decode(reply.data), 're:q');
    const spans = spansOf(root.traceId);
    const request = one(spans, `request ${subject}`);
    const handler = one(spans, `process ${subject}`);
    const respond = one(spans, `respond ${subject}`);
    assert.equal(request.parentSpanId, root.spanId);
    assert.equal(attr(request, ATTR.stage), 'enqueue');
    assert.equal(handler.parentSpanId, request.spanId);
    assert.equal(respond.parentSpanId, handler.spanId);
    assert.equal(attr(respond, ATTR.stage), undefined, 'a reply is awaited by its request, not queued');
    assert.equal(spans.filter((s) => s.name.startsWith('publish')).length, 0, 'the request publish is not a span of its own');
    assert.deepEqual(checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000).map((f) => f.rule), []);

    // No responder: the same error as without instrumentation, recorded on the span.
    const lonely = uniqueName('lt.nats.none').replace(/-/g, '_');
    let traced: unknown;
    const t = tracer.startSpan('root2', { parent: null });
    await runWithContext(activeContext().withSpan(t), () => nc.request(lonely, sc.encode('q'), { timeout: 500 })).catch((e: unknown) => (traced = e));
    handle.disable();
    let plain: unknown;
    await nc.request(lonely, sc.encode('q'), { timeout: 500 }).catch((e: unknown) => (plain = e));
    handle = instrument({ tracing, instrumentations: [natsInstrumentation()] });
    assert.ok(traced instanceof Error && plain instanceof Error);
    assert.equal(traced.constructor, plain.constructor);
    assert.equal(traced.message, plain.message);
    assert.equal(one(spansOf(t.traceId), `request ${lonely}`).status.code, 'error');
  });

  it('JetStream: js.publish = enqueue, consumer fetch/consume = dequeue child of it, ack = consume', async () => {
    const stream = uniqueName('LT_NATS').replace(/[-.]/g, '_');
    const subject = `${stream.toLowerCase()}.orders`;
    streams.push(stream);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`] });
    await jsm.consumers.add(stream, { durable_name: 'workers', ack_policy: AckPolicy.Explicit });
    const js = nc.jetstream();
    const roots: string[] = [];
    const acks: unknown[] = [];
    for (const body of ['one', 'two']) {
      const root = tracer.startSpan('root', { parent: null });
      roots.push(root.traceId);
      acks.push(await runWithContext(activeContext().withSpan(root), () => js.publish(subject, sc.encode(body), { msgID: `${stream}-${body}` })));
      root.end();
    }
    assert.equal((acks[0] as { seq: number }).seq, 1, 'the publish ack is returned unchanged');
    const consumer = await js.consumers.get(stream, 'workers');
    const fetched = await consumer.fetch({ max_messages: 1, expires: 2000 });
    const bodies: string[] = [];
    for await (const m of fetched) {
      bodies.push(sc.decode(m.data));
      m.ack();
    }
    const consumed = await consumer.consume({ max_messages: 1 });
    for await (const m of consumed) {
      bodies.push(sc.decode(m.data));
      m.term();
      break;
    }
    assert.deepEqual(bodies, ['one', 'two']);
    for (const [i, traceId] of roots.entries()) {
      const spans = spansOf(traceId);
      const producer = one(spans, `publish ${subject}`);
      const dequeue = one(spans, `receive ${subject}`);
      const settle = one(spans, `${i === 0 ? 'ack' : 'term'} ${subject}`);
      assert.equal(attr(producer, ATTR.stage), 'enqueue');
      assert.equal(attr(producer, ATTR.target), `mq:${subject}`);
      assert.equal(attr(producer, 'messaging.nats.stream'), stream);
      assert.equal(attr(producer, 'messaging.message.id'), `${stream}-${i === 0 ? 'one' : 'two'}`);
      assert.equal(dequeue.parentSpanId, producer.spanId);
      assert.equal(attr(dequeue, ATTR.stage), 'dequeue');
      assert.equal(attr(dequeue, 'messaging.consumer.group.name'), 'workers');
      assert.equal(settle.parentSpanId, dequeue.spanId);
      assert.equal(attr(settle, ATTR.stage), 'consume');
      // No span for the JetStream API calls or the ack's own publish.
      assert.equal(spans.filter((s) => s.name.includes('$JS')).length, 0);
      assert.deepEqual(checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000).map((f) => f.rule), []);
    }
  });

  it('a JetStream publish that no consumer takes is not-consumed for the chain checker', async () => {
    const stream = uniqueName('LT_NATS_ORPHAN').replace(/[-.]/g, '_');
    const subject = `${stream.toLowerCase()}.x`;
    streams.push(stream);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject] });
    const root = tracer.startSpan('root', { parent: null });
    await runWithContext(activeContext().withSpan(root), () => nc.jetstream().publish(subject, sc.encode('lost')));
    root.end();
    const spans = spansOf(root.traceId);
    const producer = one(spans, `publish ${subject}`);
    const findings = checkTrace(spans, { deadlineMs: 5000 }, nowUs() + 10_000_000);
    assert.deepEqual(findings.map((f) => [f.rule, f.spanId, f.target]), [['not-consumed', producer.spanId, `mq:${subject}`]]);
  });

  it('a publish in a suppressed context (e.g. the exporter) makes no span and injects no context', async () => {
    const subject = uniqueName('lt.nats.suppressed');
    const got: { data: string; traceparent: string | undefined }[] = [];
    const sub = nc.subscribe(subject, { callback: (_e, m) => got.push({ data: sc.decode(m.data), traceparent: m.headers?.get('traceparent') || undefined }) });
    await nc.flush();
    const before = collected.spans.length;
    const root = tracer.startSpan('root', { parent: null });
    runWithContext(suppressTracing(activeContext().withSpan(root)), () => nc.publish(subject, sc.encode('quiet')));
    root.end();
    await nc.flush();
    await waitFor('the suppressed message', () => got.length === 1);
    sub.unsubscribe();
    assert.deepEqual(got, [{ data: 'quiet', traceparent: undefined }]);
    // The delivery is traced (the subscriber is not suppressed) but has no producer: a root of its own.
    const mine = collected.spans.slice(before).filter((s) => s.traceId === root.traceId);
    assert.deepEqual(mine.map((s) => s.name), ['root'], 'no publish span in the suppressed trace');
    assert.equal(collected.spans.slice(before).some((s) => s.name === `publish ${subject}`), false);
  });

  it('patches the real prototypes; a nats of an unexpected shape is left untouched with one warning', () => {
    const req = createRequire(import.meta.url);
    const base = join(req.resolve('nats'), '..', 'lib');
    const nats = req(join(base, 'nats-base-client/nats.js')) as { NatsConnectionImpl: { prototype: Record<string, unknown> } };
    assert.equal(isWrapped(nats.NatsConnectionImpl.prototype.publish), true);
    handle.disable();
    const root = fakePackage('nats', {
      'index.js': 'module.exports = require("./lib/nats-base-client/nats.js");\n',
      'lib/nats-base-client/nats.js': 'class NatsConnectionImpl { publish() { return "plain"; } }\nexports.NatsConnectionImpl = NatsConnectionImpl;\n',
    });
    const fake = instrument({ tracing, instrumentations: [natsInstrumentation()] });
    try {
      const { result: mod, text } = captureStderr(() => createRequire(join(root, 'app.js'))('nats') as { NatsConnectionImpl: new () => { publish(): string } });
      assert.equal(isWrapped(mod.NatsConnectionImpl.prototype.publish), false);
      assert.equal(new mod.NatsConnectionImpl().publish(), 'plain');
      assert.match(text, /nats.*could not patch nats@0\.0\.1-fake/);
    } finally {
      fake.disable();
      handle = instrument({ tracing, instrumentations: [natsInstrumentation()] });
    }
  });
});
