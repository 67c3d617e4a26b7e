import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { ATTEMPT_HEADER, attemptOf, type Delivery, type Settle, type Subscription, type WorkQueue } from './work-queue.js';

export interface AmqpQueueOptions {
  /** An open amqplib connection (`await amqp.connect(url)`); the queue opens its own channels on it. */
  connection: ChannelModel;
  /** The queue's name; declared if missing. */
  queue: string;
  /** Declare the queue durable (survives a broker restart). Default true. */
  durable?: boolean;
  /** The enqueue target recorded on spans; default `mq:<queue>` (give the logical name when the real one carries a prefix). */
  target?: string;
}

/**
 * A RabbitMQ queue. Messages are persistent on a durable queue; each consumer has its own channel
 * with `prefetch` unacked messages at most. A retry waits for its delay while still holding the
 * message, then publishes the next attempt and acks the original: a worker that dies meanwhile
 * leaves the original to be redelivered, so a retry is never lost (at worst it runs twice, which
 * the guards absorb). Publishing waits for the channel to drain when its buffer is full.
 */
export async function amqpQueue(options: AmqpQueueOptions): Promise<WorkQueue> {
  const durable = options.durable ?? true;
  const publisher = await options.connection.createChannel();
  await publisher.assertQueue(options.queue, { durable });
  const channels = new Set<Channel>();
  channels.add(publisher);
  const timers = new Set<NodeJS.Timeout>();
  const publish = async (channel: Channel, body: Buffer, headers: Record<string, unknown>): Promise<void> => {
    if (!channel.sendToQueue(options.queue, body, { headers, persistent: durable, contentType: 'application/json' })) {
      await new Promise<void>((resolve) => channel.once('drain', () => resolve()));
    }
  };
  return {
    target: options.target ?? `mq:${options.queue}`,
    publish: (body, headers) => publish(publisher, body, headers),
    async consume(handler, { prefetch }) {
      const channel = await options.connection.createChannel();
      channels.add(channel);
      await channel.prefetch(Math.max(1, Math.floor(prefetch)));
      const settle = (msg: ConsumeMessage, delivery: Delivery, how: Settle): void => {
        try {
          if (how.how === 'ack') channel.ack(msg);
          else if (how.how === 'requeue') channel.nack(msg, false, true);
          else {
            const timer = setTimeout(() => {
              timers.delete(timer);
              void publish(channel, msg.content, { ...delivery.headers, [ATTEMPT_HEADER]: delivery.attempt + 1 })
                .then(() => channel.ack(msg))
                .catch(() => undefined); // the channel closed: the broker redelivers the original
            }, how.delayMs);
            timers.add(timer);
          }
        } catch {
          // The channel closed meanwhile (shutdown): the broker requeues the message by itself.
        }
      };
      const { consumerTag } = await channel.consume(options.queue, (msg) => {
        if (msg === null) return; // the broker cancelled the consumer (queue deleted)
        const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
        const delivery: Delivery = { body: msg.content, headers, redelivered: msg.fields.redelivered, attempt: attemptOf(headers) };
        handler(delivery).then(
          (how) => settle(msg, delivery, how),
          () => settle(msg, delivery, { how: 'requeue' }),
        );
      });
      let cancelled = false;
      return {
        cancel: async () => {
          if (cancelled) return;
          cancelled = true;
          await channel.cancel(consumerTag).catch(() => undefined);
          // Closing returns every unsettled message to the queue, as a dead process's would.
          await channel.close().catch(() => undefined);
          channels.delete(channel);
        },
      } satisfies Subscription;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of [...channels]) await c.close().catch(() => undefined);
      channels.clear();
    },
  };
}
