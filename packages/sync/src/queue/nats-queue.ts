import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { attemptOf, ATTEMPT_HEADER, type Delivery, type Settle, type Subscription, type WorkQueue } from './work-queue.js';

export interface NatsQueueOptions {
  /** An open connection (`await connect({ servers })`) to a server with JetStream on. */
  connection: NatsConnection;
  /** The stream; created with `subject` if missing. */
  stream: string;
  subject: string;
  /** The durable consumer every worker shares (competing consumers); created if missing. Default `sync-workers`. */
  durable?: string;
  /** How long a delivery may stay unacked before JetStream hands it out again (a dead worker). Default 30 000 ms. */
  ackWaitMs?: number;
  /** The enqueue target recorded on spans; default `mq:<subject>`. */
  target?: string;
}

/**
 * A NATS JetStream work queue: one stream, one durable pull consumer shared by the workers. A
 * consumer pulls at most `prefetch` messages and runs at most `prefetch` at once. A retry is a
 * `nak` with the delay (JetStream redelivers it then, counting the delivery); a message a dead
 * worker held comes back after `ackWaitMs`. The attempt is JetStream's delivery count.
 */
export async function natsQueue(options: NatsQueueOptions): Promise<WorkQueue> {
  // Loaded here, not at the top: `nats` is an optional peer dependency, needed only by this adapter.
  const { AckPolicy, headers: natsHeaders } = await import('nats');
  const { connection, stream, subject } = options;
  const durable = options.durable ?? 'sync-workers';
  const jsm = await connection.jetstreamManager();
  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({ name: stream, subjects: [subject] });
  }
  try {
    await jsm.consumers.info(stream, durable);
  } catch {
    await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: subject, ack_wait: (options.ackWaitMs ?? 30_000) * 1_000_000 });
  }
  const js = connection.jetstream();
  const open = new Set<ConsumerMessages>();
  return {
    target: options.target ?? `mq:${subject}`,
    async publish(body, headers) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(headers)) h.set(k, String(v));
      await js.publish(subject, body, { headers: h });
    },
    async consume(handler, { prefetch }) {
      const max = Math.max(1, Math.floor(prefetch));
      const consumer = await js.consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: max });
      open.add(messages);
      let inFlight = 0;
      let wake: (() => void) | undefined;
      const run = async (m: JsMsg): Promise<void> => {
        const headers: Record<string, unknown> = {};
        if (m.headers !== undefined) for (const [k, v] of m.headers) headers[k] = v[0];
        // JetStream counts deliveries itself; a republished retry (another queue's) keeps its header.
        const attempt = Math.max(attemptOf(headers), m.info.deliveryCount);
        headers[ATTEMPT_HEADER] = attempt;
        const delivery: Delivery = { body: Buffer.from(m.data), headers, redelivered: m.info.redelivered, attempt };
        let how: Settle;
        try {
          how = await handler(delivery);
        } catch {
          how = { how: 'requeue' };
        }
        if (how.how === 'ack') m.ack();
        else if (how.how === 'requeue') m.nak();
        else m.nak(Math.max(0, Math.round(how.delayMs)));
      };
      const loop = (async () => {
        for await (const m of messages) {
          while (inFlight >= max) await new Promise<void>((r) => (wake = r));
          inFlight++;
          void run(m).finally(() => {
            inFlight--;
            const w = wake;
            wake = undefined;
            w?.();
          });
        }
      })();
      return {
        cancel: async () => {
          open.delete(messages);
          messages.stop();
          await loop.catch(() => undefined);
        },
      } satisfies Subscription;
    },
    close() {
      for (const m of open) m.stop();
      open.clear();
      return Promise.resolve();
    },
  };
}
