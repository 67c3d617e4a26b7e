/**
 * The consumer loop on a busy event loop (real nats-server): JetStream delivers a message to a
 * waiting pull request while this process is blocked past the request's expiry. The client's
 * `fetch` dropped such a message (its inbox was gone once its timer fired), and it came back only
 * after the 60 s ack wait; the loop's own inbox keeps it for the next batch. The block is a child
 * process run synchronously (it publishes, then waits past the expiry), in a `setImmediate`
 * callback so that the timers run before the socket is read, as on a loaded machine.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { INGESTER_CONSUMER, SPANS_STREAM, SPANS_SUBJECT_PREFIX, spansSubject } from '../src/roles/jetstream-names.js';
import { MessageConsumer, type ConsumedItem } from '../src/roles/message-consumer.js';
import { NatsLink } from '../src/roles/nats-link.js';
import { RoleMetrics } from '../src/roles/role-metrics.js';
import { encodeSpanMessage } from '../src/roles/span-message.js';
import { newTraceId, shopSync } from './checker-traces.js';
import { natsClient, roleOptions, startLocalNats, until } from './roles-helpers.js';

const EXPIRES_MS = 4000;
const natsModule = fileURLToPath(import.meta.resolve('nats'));

/** Runs in the child: publish one message to the spans stream, then stay blocked `holdMs`. */
const CHILD = `
const { connect, headers } = require(process.argv[1]);
(async () => {
  const nc = await connect({ servers: process.argv[2] });
  const h = headers();
  for (const [k, v] of JSON.parse(process.argv[5])) h.set(k, v);
  await nc.jetstream().publish(process.argv[3], Buffer.from(process.argv[4], 'base64'), { headers: h });
  await nc.close();
  await new Promise((r) => setTimeout(r, Number(process.argv[6])));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('the consumer loop', { timeout: 120_000 }, () => {
  it('keeps a message delivered to a pull request while the event loop was blocked past its expiry', async () => {
    const nats = await startLocalNats();
    const options = roleOptions('ingester', { nats: nats.url, store: 'unused', partitions: '1' });
    const link = new NatsLink({ role: 'ingester', nats: options.nats!, warn: () => {} });
    const got: ConsumedItem[] = [];
    let consumer: MessageConsumer | undefined;
    const nc = await natsClient(nats.url);
    try {
      await link.whenLinked();
      consumer = new MessageConsumer({
        role: 'ingester',
        link,
        durable: INGESTER_CONSUMER,
        filterSubject: `${SPANS_SUBJECT_PREFIX}.*`,
        batch: 10,
        metrics: new RoleMetrics(new Registry()),
        warn: () => {},
        expiresMs: EXPIRES_MS,
        handle: (items) => {
          got.push(...items);
          return Promise.resolve({});
        },
      });
      const jsm = await nc.jetstreamManager();
      await until('a pull request waiting on the server', async () => ((await jsm.consumers.info(SPANS_STREAM, INGESTER_CONSUMER)).num_waiting > 0 ? true : undefined));
      const spans = shopSync(newTraceId());
      const message = encodeSpanMessage(spans, Date.now() * 1000);
      const headerList = [...message.headers].map(([k, v]) => [k, v[0]]);
      await new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          try {
            execFileSync(process.execPath, ['-e', CHILD, natsModule, nats.url, spansSubject(0), Buffer.from(message.data).toString('base64'), JSON.stringify(headerList), String(EXPIRES_MS + 1500)], { stdio: 'pipe' });
            resolve();
          } catch (error) {
            reject(error as Error);
          }
        }),
      );
      // Well inside the 60 s ack wait: a dropped message would come back only after it.
      await until('the message taken by the loop', () => Promise.resolve(got.length > 0 ? true : undefined), 20_000);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.msg.redelivered, false, 'taken on its first delivery, not after the ack wait');
      assert.deepEqual(got[0]!.spans.map((s) => s.spanId), spans.map((s) => s.spanId));
    } finally {
      await consumer?.stop();
      await link.close();
      await nc.close();
      await nats.destroy();
    }
  });
});
