import type { Attributes } from '@linktrace/model';
import type { Context } from '../../context/context.js';
import { activeContext } from '../../context/context-manager.js';
import { isTracingSuppressed } from '../../context/suppress.js';
import { amqpHeadersGetter, amqpHeadersSetter, type AmqpHeaders } from '../../propagation/carriers.js';
import { runInSpan } from '../../stages/run-in-span.js';
import { callAndEnd, failSpan } from '../../trace/call-and-end.js';
import { nowUs } from '../../trace/clock.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { LinkSpec } from '../../trace/tracer.js';
import type { InstrumentationContext } from '../core/instrumentation.js';
import { unwrap, wrap } from '../core/shim.js';
import { awaitedMessage } from '../messaging/awaited-message.js';
import { MESSAGING } from '../messaging/semconv.js';
import { countFrom, deliveryParent, type DeliveryFacts } from '../messaging/redelivery.js';
import { stageAttributes } from '../messaging/stage-attributes.js';
import { deliveryOf, forget, remember, settledBy, type Delivery } from './deliveries.js';

/** What the instrumentation reads of an amqplib message (`{ fields, properties, content }`). */
interface AmqpMessage {
  fields?: { deliveryTag?: unknown; exchange?: unknown; routingKey?: unknown; redelivered?: unknown };
  properties?: { headers?: unknown; messageId?: unknown; correlationId?: unknown };
  content?: unknown;
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type ChannelProto = Record<string, Fn>;

export const PATCHED_METHODS = ['publish', 'consume', 'get', 'ack', 'ackAll', 'nack', 'nackAll', 'reject'] as const;

export interface AmqpSettings {
  /** Destinations (exchange or queue) not traced. */
  ignore: (destination: string) => boolean;
}

/** `lib/channel_model.js` (promises) and `lib/callback_model.js` (callbacks) both export `Channel`. */
export function channelPrototype(exports: unknown): ChannelProto {
  const channel = (exports as { Channel?: unknown } | null)?.Channel;
  const proto = typeof channel === 'function' ? (channel.prototype as unknown) : undefined;
  if (proto === null || typeof proto !== 'object') throw new Error('no Channel class in the module exports');
  for (const name of PATCHED_METHODS) {
    if (typeof (proto as Record<string, unknown>)[name] !== 'function') throw new Error(`Channel.prototype.${name} is not a function`);
  }
  return proto as ChannelProto;
}

export function unpatchChannel(exports: unknown): void {
  const channel = (exports as { Channel?: { prototype?: unknown } } | null)?.Channel;
  const proto = channel?.prototype;
  if (proto === null || typeof proto !== 'object') return;
  for (const name of PATCHED_METHODS) unwrap(proto as ChannelProto, name);
}

export function patchChannel(exports: unknown, ctx: InstrumentationContext, settings: AmqpSettings, model: 'promise' | 'callback'): void {
  const proto = channelPrototype(exports);
  const { tracer, tracing } = ctx;

  function peerAttributes(channel: unknown, attributes: Attributes): void {
    try {
      const stream = (channel as { connection?: { stream?: { remoteAddress?: unknown; remotePort?: unknown } } }).connection?.stream;
      if (typeof stream?.remoteAddress === 'string') attributes[MESSAGING.serverAddress] = stream.remoteAddress;
      if (typeof stream?.remotePort === 'number') attributes[MESSAGING.serverPort] = stream.remotePort;
    } catch {
      // A stream without an address (a test double): no peer attributes.
    }
  }

  function messageAttributes(message: AmqpMessage, attributes: Attributes): void {
    const properties = message.properties;
    if (typeof properties?.messageId === 'string' && properties.messageId.length > 0) attributes[MESSAGING.messageId] = properties.messageId;
    if (typeof properties?.correlationId === 'string' && properties.correlationId.length > 0) attributes[MESSAGING.conversationId] = properties.correlationId;
    if (message.content instanceof Uint8Array) attributes[MESSAGING.bodySize] = message.content.byteLength;
    const fields = message.fields;
    if (typeof fields?.routingKey === 'string' && fields.routingKey.length > 0) attributes[MESSAGING.rabbitRoutingKey] = fields.routingKey;
    if (typeof fields?.deliveryTag === 'number') attributes[MESSAGING.rabbitDeliveryTag] = fields.deliveryTag;
  }

  /** The upstream context in a message's headers: the producer span, or nothing (a new trace). */
  function upstreamOf(headers: unknown): Context {
    return tracing.extract(headers as AmqpHeaders, amqpHeadersGetter);
  }

  /**
   * Which delivery this is: quorum queues count earlier deliveries in `x-delivery-count`; classic
   * queues only flag a redelivery, and a message not flagged is on its first delivery.
   */
  function deliveryFacts(message: AmqpMessage): DeliveryFacts {
    const redelivered = message.fields?.redelivered;
    const headers = message.properties?.headers;
    const earlier = headers !== null && typeof headers === 'object' ? countFrom((headers as Record<string, unknown>)['x-delivery-count']) : undefined;
    return { count: earlier !== undefined ? earlier + 1 : redelivered === false ? 1 : undefined, redelivered: redelivered === true || (earlier !== undefined && earlier > 0) };
  }

  /** Starts the dequeue span of a message taken from `queue` (pushed to a consumer, or pulled by `get`). */
  function startDequeue(channel: unknown, queue: string, message: AmqpMessage, operation: 'process' | 'receive', startUs?: number): { span: SpanHandle; upstream: Context } {
    const upstream = upstreamOf(message.properties?.headers);
    const attributes: Attributes = {
      [MESSAGING.system]: 'rabbitmq',
      [MESSAGING.operationName]: operation === 'process' ? 'deliver' : 'get',
      [MESSAGING.operationType]: operation,
      [MESSAGING.destination]: queue,
    };
    messageAttributes(message, attributes);
    peerAttributes(channel, attributes);
    stageAttributes('dequeue', attributes);
    const parent = deliveryParent(upstream, deliveryFacts(message), attributes);
    const span = tracer.startSpan(`${operation} ${queue}`, { kind: 'consumer', parent, attributes, startTimeUs: startUs });
    return { span, upstream };
  }

  function track(channel: object, queue: string, message: AmqpMessage, span: SpanHandle, upstream: Context, noAck: boolean): void {
    const tag = message.fields?.deliveryTag;
    const remote = upstream.span;
    const producer = remote !== undefined && remote.spanId !== '' ? remote.spanContext() : undefined;
    remember(channel, message, { queue, tag: typeof tag === 'number' ? tag : -1, span, producer }, !noAck && typeof tag === 'number');
  }

  wrap(proto, 'publish', (original) =>
    function publish(this: unknown, exchange: unknown, routingKey: unknown, content: unknown, options: unknown, ...rest: unknown[]): unknown {
      const destination = typeof exchange === 'string' && exchange.length > 0 ? exchange : typeof routingKey === 'string' ? routingKey : '';
      const optionsUsable = options === undefined || (typeof options === 'object' && options !== null);
      if (isTracingSuppressed() || !optionsUsable || destination.length === 0 || settings.ignore(destination)) {
        return original.call(this, exchange, routingKey, content, options, ...rest);
      }
      const given = options as { headers?: unknown; messageId?: unknown; correlationId?: unknown } | undefined;
      const givenHeaders = given?.headers !== null && typeof given?.headers === 'object' ? (given.headers as AmqpHeaders) : undefined;
      // A producer that propagated by hand stays the parent: its headers are continued, not replaced by an unrelated context.
      const handed = givenHeaders === undefined ? undefined : upstreamOf(givenHeaders);
      const parent = handed?.span !== undefined ? handed : activeContext();
      const attributes: Attributes = {
        [MESSAGING.system]: 'rabbitmq',
        [MESSAGING.operationName]: 'publish',
        [MESSAGING.operationType]: 'send',
        [MESSAGING.destination]: destination,
      };
      if (typeof routingKey === 'string' && routingKey.length > 0) attributes[MESSAGING.rabbitRoutingKey] = routingKey;
      messageAttributes({ properties: given, content }, attributes);
      peerAttributes(this, attributes);
      stageAttributes('enqueue', attributes, destination);
      const span = tracer.startSpan(`publish ${destination}`, { kind: 'producer', parent, attributes });
      // Copies: the caller's options and headers objects are not changed (they are often reused).
      const headers: AmqpHeaders = { ...givenHeaders };
      tracing.inject(headers, amqpHeadersSetter, parent.withSpan(span));
      const traced = { ...given, headers };
      let result: unknown;
      try {
        result = original.call(this, exchange, routingKey, content, traced, ...rest);
      } catch (error) {
        failSpan(span, error);
        span.end();
        throw error;
      }
      span.end();
      return result;
    },
  );

  wrap(proto, 'consume', (original) =>
    function consume(this: unknown, queue: unknown, callback: unknown, options: unknown, ...rest: unknown[]): unknown {
      if (typeof callback !== 'function' || typeof queue !== 'string' || settings.ignore(queue) || isTracingSuppressed()) {
        return original.call(this, queue, callback, options, ...rest);
      }
      const channel = this as object;
      const noAck = (options as { noAck?: unknown } | null | undefined)?.noAck === true;
      const user = callback as Fn;
      const traced = function (this: unknown, message: unknown): unknown {
        // null: the broker cancelled the consumer; not a message.
        if (message === null || typeof message !== 'object') return user.call(this, message);
        const { span, upstream } = startDequeue(channel, queue, message as AmqpMessage, 'process');
        track(channel, queue, message as AmqpMessage, span, upstream, noAck);
        return runInSpan(upstream, span, () => user.call(this, message));
      };
      return original.call(this, queue, traced, options, ...rest);
    },
  );

  wrap(proto, 'get', (original) =>
    function get(this: unknown, queue: unknown, options: unknown, ...rest: unknown[]): unknown {
      if (typeof queue !== 'string' || settings.ignore(queue) || isTracingSuppressed()) return original.call(this, queue, options, ...rest);
      const channel = this as object;
      const noAck = (options as { noAck?: unknown } | null | undefined)?.noAck === true;
      const startUs = nowUs();
      if (model === 'callback') {
        const cb = rest[0];
        if (typeof cb !== 'function') return original.call(this, queue, options, ...rest);
        const traced = function (this: unknown, error: unknown, message: unknown): unknown {
          if (error !== null && error !== undefined) return (cb as Fn).call(this, error, message);
          if (message === null || typeof message !== 'object') return (cb as Fn).call(this, error, message);
          const { span, upstream } = startDequeue(channel, queue, message as AmqpMessage, 'receive', startUs);
          track(channel, queue, message as AmqpMessage, span, upstream, noAck);
          return runInSpan(upstream, span, () => (cb as Fn).call(this, error, message));
        };
        return original.call(this, queue, options, traced, ...rest.slice(1));
      }
      const result = original.call(this, queue, options, ...rest);
      // The code after the application's `await` handles the message: it runs in the message's context.
      return awaitedMessage(channel, result, (message) => {
        // `false`: the queue was empty, nothing was taken off it.
        if (message === null || typeof message !== 'object') return undefined;
        const { span, upstream } = startDequeue(channel, queue, message as AmqpMessage, 'receive', startUs);
        track(channel, queue, message as AmqpMessage, span, upstream, noAck);
        span.end();
        return upstream.withSpan(span);
      });
    },
  );

  /** The `consume` stage: a short span per settle, child of the delivery, linked to every producer a batch settle covers. */
  function settle<R>(channel: object, operation: string, message: unknown, allUpTo: boolean, send: () => R): R {
    if (isTracingSuppressed()) return send();
    const tag = (message as AmqpMessage | undefined)?.fields?.deliveryTag;
    const upTo = message === undefined ? undefined : typeof tag === 'number' ? tag : undefined;
    if (message !== undefined && upTo === undefined) return send();
    const covered = settledBy(channel, upTo, allUpTo);
    const own: Delivery | undefined = message === undefined ? undefined : (deliveryOf(message) ?? covered.find((d) => d.tag === upTo));
    if (own === undefined && covered.length === 0) return send();
    const queue = own?.queue ?? covered[0]!.queue;
    const batch = message === undefined || allUpTo;
    const links: LinkSpec[] = [];
    if (batch) for (const d of covered) if (d.producer !== undefined) links.push({ context: d.producer });
    const attributes: Attributes = {
      [MESSAGING.system]: 'rabbitmq',
      [MESSAGING.operationName]: operation,
      [MESSAGING.operationType]: 'settle',
      [MESSAGING.destination]: queue,
    };
    if (batch) attributes[MESSAGING.batchCount] = covered.length;
    if (typeof upTo === 'number') attributes[MESSAGING.rabbitDeliveryTag] = upTo;
    stageAttributes('consume', attributes);
    const parent = own?.span ?? activeContext();
    const span = tracer.startSpan(`${operation} ${queue}`, { kind: 'consumer', parent, links, attributes });
    const result = callAndEnd(span, send);
    forget(channel, covered);
    if (own !== undefined && !covered.includes(own)) forget(channel, [own]);
    return result;
  }

  wrap(proto, 'ack', (original) =>
    function ack(this: unknown, message: unknown, allUpTo: unknown, ...rest: unknown[]): unknown {
      return settle(this as object, 'ack', message ?? {}, allUpTo === true, () => original.call(this, message, allUpTo, ...rest));
    },
  );
  wrap(proto, 'nack', (original) =>
    function nack(this: unknown, message: unknown, allUpTo: unknown, ...rest: unknown[]): unknown {
      // amqplib's default for allUpTo is false; a nack requeues unless told not to.
      return settle(this as object, 'nack', message ?? {}, allUpTo === true, () => original.call(this, message, allUpTo, ...rest));
    },
  );
  wrap(proto, 'reject', (original) =>
    function reject(this: unknown, message: unknown, ...rest: unknown[]): unknown {
      return settle(this as object, 'reject', message ?? {}, false, () => original.call(this, message, ...rest));
    },
  );
  wrap(proto, 'ackAll', (original) =>
    function ackAll(this: unknown, ...args: unknown[]): unknown {
      return settle(this as object, 'ack', undefined, true, () => original.apply(this, args));
    },
  );
  wrap(proto, 'nackAll', (original) =>
    function nackAll(this: unknown, ...args: unknown[]): unknown {
      return settle(this as object, 'nack', undefined, true, () => original.apply(this, args));
    },
  );
}
