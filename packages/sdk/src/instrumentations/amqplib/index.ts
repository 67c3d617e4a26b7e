import { amqpHeadersGetter, type AmqpHeaders } from '../../propagation/carriers.js';
import { getGlobalTracing } from '../../trace/global.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { Tracing } from '../../trace/tracing.js';
import type { SpanContext } from '../../types.js';
import { SCOPE_PREFIX } from '../core/enable.js';
import type { Instrumentation, InstrumentationContext } from '../core/instrumentation.js';
import { runBatchSpan, type ConsumeBatchOptions } from '../messaging/consume-batch.js';
import { patchChannel, unpatchChannel, type AmqpSettings } from './patch-channel.js';

export type { ConsumeBatchOptions } from '../messaging/consume-batch.js';

export interface AmqplibInstrumentationConfig {
  /** Exchanges and queues (by name) that are not traced, e.g. a high-volume heartbeat queue. */
  ignore?: readonly string[] | ((destination: string) => boolean);
}

/** The tracing of the enabled instrumentation, for `consumeBatch`. */
let enabledTracing: Tracing | undefined;

/**
 * RabbitMQ through `amqplib`, promise and callback APIs: `publish`/`sendToQueue` are `enqueue`
 * producer spans that carry the trace in the message headers; a delivery to a `consume` callback and a
 * `get` are `dequeue` consumer spans, children of the producer span; `ack`, `nack`, `reject`,
 * `ackAll` and `nackAll` record the `consume` stage as a short span below the delivery.
 */
export function amqplibInstrumentation(config: AmqplibInstrumentationConfig = {}): Instrumentation {
  const settings: AmqpSettings = { ignore: ignoreFunction(config.ignore) };
  const target = (file: string, model: 'promise' | 'callback') => ({
    package: 'amqplib',
    file,
    patch(exports: unknown, ctx: InstrumentationContext) {
      enabledTracing = ctx.tracing;
      patchChannel(exports, ctx, settings, model);
    },
    unpatch: unpatchChannel,
  });
  return {
    name: 'amqplib',
    targets: [target('lib/channel_model.js', 'promise'), target('lib/callback_model.js', 'callback')],
    disable() {
      enabledTracing = undefined;
    },
  };
}

function ignoreFunction(ignore: AmqplibInstrumentationConfig['ignore']): (destination: string) => boolean {
  if (typeof ignore === 'function') {
    return (destination) => {
      try {
        return ignore(destination) === true;
      } catch {
        return false;
      }
    };
  }
  const names = new Set(Array.isArray(ignore) ? ignore : []);
  return (destination) => names.has(destination);
}

interface MessageLike {
  properties?: { headers?: unknown };
  fields?: { routingKey?: unknown };
}

/**
 * Runs `fn` in one `consume` span that links to the producer span of every message in `messages`
 * (a batch consumer: messages collected from a `consume` callback or `get`, handled together).
 * The span is active while `fn` runs and ends when it returns or its promise settles.
 */
export function consumeBatch<R>(messages: readonly unknown[], fn: (span: SpanHandle) => R, options?: ConsumeBatchOptions & { queue?: string }): R {
  const tracing = enabledTracing ?? getGlobalTracing();
  const producers: (SpanContext | undefined)[] = [];
  for (const message of Array.isArray(messages) ? messages : []) {
    const headers = (message as MessageLike | null)?.properties?.headers;
    const span = tracing.extract(headers as AmqpHeaders, amqpHeadersGetter).span;
    producers.push(span !== undefined && span.spanId !== '' ? span.spanContext() : undefined);
  }
  const queue = typeof options?.queue === 'string' && options.queue.length > 0 ? options.queue : undefined;
  return runBatchSpan(tracing.getTracer(SCOPE_PREFIX + 'amqplib'), 'rabbitmq', queue, producers, fn, options);
}
