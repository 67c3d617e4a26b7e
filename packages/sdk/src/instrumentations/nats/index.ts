import type { Instrumentation, InstrumentationContext, LoadedModule } from '../core/instrumentation.js';
import { unwrap } from '../core/shim.js';
import { patchConnection, patchConsumers, patchJetStream, patchJetStreamPull, patchJsMsg, patchMsg, patchQueuedIterator, type NatsSettings } from './patch.js';

export { natsMessageContext } from './patch.js';

export interface NatsInstrumentationConfig {
  /** Subjects that are not traced (besides the client's own `_INBOX.`, `$JS.`, `$KV.`, … subjects). */
  ignore?: readonly string[] | ((subject: string) => boolean);
}

/**
 * NATS through `nats` v2, core and JetStream: `publish`, `request` and `js.publish` are `enqueue`
 * producer spans whose context rides in the message headers; a delivery to a subscription (callback
 * or async iterator) and a JetStream message handed out by `fetch`/`consume`/`next`/push or pull
 * subscriptions are `dequeue` consumer spans, children of the producer; `ack`/`nak`/`term` on a
 * JetStream message are the `consume` stage; `respond` is a producer span without a stage. Code
 * that handles a message runs in its span: a callback, the body of a `for await` loop over a
 * subscription or consumer, and the code after `await consumer.next()` / `js.pull()`.
 */
export function natsInstrumentation(config: NatsInstrumentationConfig = {}): Instrumentation {
  const settings: NatsSettings = { ignore: ignoreFunction(config.ignore) };
  return {
    name: 'nats',
    targets: [
      {
        package: 'nats',
        file: 'lib/nats-base-client/nats.js',
        patch: (exports: unknown, ctx: InstrumentationContext, loaded: LoadedModule) => patchConnection(exports, ctx, settings, loaded),
        unpatch: (exports: unknown) => unpatchAll(exports, ['NatsConnectionImpl'], ['publish', 'request', 'subscribe']),
      },
      {
        package: 'nats',
        file: 'lib/nats-base-client/msg.js',
        patch: (exports: unknown, ctx: InstrumentationContext, loaded: LoadedModule) => patchMsg(exports, ctx, loaded),
        unpatch: (exports: unknown) => unpatchAll(exports, ['MsgImpl'], ['respond']),
      },
      {
        package: 'nats',
        file: 'lib/nats-base-client/queued_iterator.js',
        patch: (exports: unknown, ctx: InstrumentationContext) => patchQueuedIterator(exports, ctx),
        unpatch: (exports: unknown) => unpatchAll(exports, ['QueuedIteratorImpl'], [Symbol.asyncIterator]),
      },
      {
        package: 'nats',
        file: 'lib/jetstream/jsclient.js',
        patch: (exports: unknown, ctx: InstrumentationContext, loaded: LoadedModule) => {
          patchJetStream(exports, ctx, settings, loaded);
          patchJetStreamPull(exports);
        },
        unpatch: (exports: unknown) => unpatchAll(exports, ['JetStreamClientImpl'], ['publish', 'pull']),
      },
      {
        package: 'nats',
        file: 'lib/jetstream/consumer.js',
        patch: (exports: unknown) => patchConsumers(exports),
        unpatch: (exports: unknown) => unpatchAll(exports, ['PullConsumerImpl', 'OrderedPullConsumerImpl'], ['next']),
      },
      {
        package: 'nats',
        file: 'lib/jetstream/jsmsg.js',
        patch: (exports: unknown, ctx: InstrumentationContext) => patchJsMsg(exports, ctx, settings),
        unpatch: (exports: unknown) => {
          unpatchAll(exports, ['JsMsgImpl'], ['ack', 'nak', 'term', 'ackAck']);
          if (exports !== null && typeof exports === 'object') unwrap(exports as Record<string, () => unknown>, 'toJsMsg');
        },
      },
    ],
  };
}

function unpatchAll(exports: unknown, classes: readonly string[], methods: readonly (string | symbol)[]): void {
  for (const name of classes) {
    const cls = (exports as Record<string, unknown> | null)?.[name];
    const proto = typeof cls === 'function' ? (cls.prototype as Record<string | symbol, () => unknown>) : undefined;
    if (proto !== undefined) for (const method of methods) unwrap(proto, method);
  }
}

function ignoreFunction(ignore: NatsInstrumentationConfig['ignore']): (subject: string) => boolean {
  if (typeof ignore === 'function') {
    return (subject) => {
      try {
        return ignore(subject) === true;
      } catch {
        return false;
      }
    };
  }
  const names = new Set(Array.isArray(ignore) ? ignore : []);
  return (subject) => names.has(subject);
}
