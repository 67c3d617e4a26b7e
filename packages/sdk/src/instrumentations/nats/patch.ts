import { createRequire } from 'node:module';
import type { Attributes } from '@linktrace/model';
import type { Context } from '../../context/context.js';
import { activeContext, contextStorage, runWithContext } from '../../context/context-manager.js';
import { isTracingSuppressed, runSuppressed } from '../../context/suppress.js';
import { natsHeadersGetter, natsHeadersSetter, type GetSetHeaders } from '../../propagation/carriers.js';
import { runInSpan } from '../../stages/run-in-span.js';
import { callAndEnd, failSpan } from '../../trace/call-and-end.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import { splitHostPort } from '../core/host-port.js';
import type { InstrumentationContext, LoadedModule } from '../core/instrumentation.js';
import { wrap } from '../core/shim.js';
import { awaitedMessage, enterSlot, fillSlot, leaveSlot } from '../messaging/awaited-message.js';
import { MESSAGING } from '../messaging/semconv.js';
import { deliveryParent, type DeliveryFacts } from '../messaging/redelivery.js';
import { stageAttributes } from '../messaging/stage-attributes.js';
import { isSystemSubject } from './subjects.js';

export interface NatsSettings {
  ignore: (subject: string) => boolean;
}

/** nats.js `MsgHdrs`, as far as copying one goes. */
interface Headers extends GetSetHeaders {
  values(key: string): string[];
  append(key: string, value: string): void;
}
type HeadersFactory = () => Headers;
type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Proto = Record<string | symbol, Fn>;

/** The dequeue span of every message handed to the application, for `natsMessageContext` and acks. */
const deliveries = new WeakMap<object, { span: SpanHandle; upstream: Context }>();
/** Subscriptions made by the application without a callback: their iterator is traced. */
const iteratedSubscriptions = new WeakSet<object>();

/**
 * The context of a received message: its dequeue span active, below the producer. For work done on a
 * message taken from an async iterator or a JetStream consumer, where the span cannot be made active
 * for the loop body: `runWithContext(natsMessageContext(msg), () => handle(msg))`.
 */
export function natsMessageContext(message: unknown): Context {
  return deliveredContext(message) ?? activeContext();
}

/** The context of a message handed out with a dequeue span: that span active below its producer. */
function deliveredContext(message: unknown): Context | undefined {
  const found = typeof message === 'object' && message !== null ? deliveries.get(message) : undefined;
  return found === undefined ? undefined : found.upstream.withSpan(found.span);
}

/**
 * Above zero while the client dispatches a message to a subscription callback, inside a context
 * scope of its own (`dispatched`): a JetStream message made there enters its context for the rest
 * of the dispatch, so the application's callback that receives it runs in it.
 */
let dispatchDepth = 0;

function dispatched<R>(fn: () => R): R {
  dispatchDepth++;
  try {
    return runWithContext(activeContext(), fn);
  } finally {
    dispatchDepth--;
  }
}

function classPrototype(exports: unknown, name: string, methods: readonly (string | symbol)[]): Proto {
  const cls = (exports as Record<string, unknown> | null)?.[name];
  const proto = typeof cls === 'function' ? (cls.prototype as unknown) : undefined;
  if (proto === null || typeof proto !== 'object') throw new Error(`no ${name} class in the module exports`);
  for (const m of methods) if (typeof (proto as Proto)[m] !== 'function') throw new Error(`${name}.prototype.${String(m)} is not a function`);
  return proto as Proto;
}

function headersFactory(loaded: LoadedModule, relative: string): HeadersFactory {
  const mod = createRequire(loaded.filename)(relative) as { headers?: unknown };
  if (typeof mod.headers !== 'function') throw new Error('nats headers() not found');
  return mod.headers as HeadersFactory;
}

function isHeaders(value: unknown): value is Headers {
  return typeof value === 'object' && value !== null && typeof (value as Headers).keys === 'function' && typeof (value as Headers).values === 'function';
}

/** A copy of the caller's headers (never changed: they may be reused) with the context written in. */
function tracedHeaders(make: HeadersFactory, given: unknown, ctx: InstrumentationContext, carried: Context): Headers {
  const headers = make();
  if (isHeaders(given)) for (const key of given.keys()) for (const value of given.values(key)) headers.append(key, value);
  ctx.tracing.inject(headers, natsHeadersSetter, carried);
  return headers;
}

function bodySize(data: unknown): number | undefined {
  return data instanceof Uint8Array ? data.byteLength : typeof data === 'string' ? Buffer.byteLength(data) : undefined;
}

function peer(connection: unknown, attributes: Attributes): void {
  try {
    const server = (connection as { getServer?: () => unknown }).getServer?.();
    if (typeof server !== 'string') return;
    const { address, port } = splitHostPort(server);
    if (address === '' || port === undefined) return;
    attributes[MESSAGING.serverAddress] = address;
    attributes[MESSAGING.serverPort] = port;
  } catch {
    // A closed connection has no server.
  }
}

function baseAttributes(operation: string, type: string, subject: string): Attributes {
  return { [MESSAGING.system]: 'nats', [MESSAGING.operationName]: operation, [MESSAGING.operationType]: type, [MESSAGING.destination]: subject };
}

/** Headers the caller handed over already carrying a context (propagated by hand) name the parent. */
function producerParent(ctx: InstrumentationContext, given: unknown): Context {
  if (isHeaders(given)) {
    const handed = ctx.tracing.extract(given, natsHeadersGetter);
    if (handed.span !== undefined) return handed;
  }
  return activeContext();
}

/** Core NATS never redelivers; a JetStream message says which delivery it is. */
const CORE_DELIVERY: DeliveryFacts = { count: undefined, redelivered: false };

function startDequeue(
  ctx: InstrumentationContext,
  message: { subject?: unknown; headers?: unknown; data?: unknown },
  operation: string,
  attributes: Attributes,
  delivery: DeliveryFacts = CORE_DELIVERY,
): { span: SpanHandle; upstream: Context } {
  const subject = typeof message.subject === 'string' ? message.subject : '';
  const upstream = ctx.tracing.extract(message.headers as GetSetHeaders, natsHeadersGetter);
  const all: Attributes = { ...baseAttributes(operation === 'process' ? 'process' : 'receive', operation, subject), ...attributes };
  const size = bodySize(message.data);
  if (size !== undefined) all[MESSAGING.bodySize] = size;
  stageAttributes('dequeue', all);
  const parent = deliveryParent(upstream, delivery, all);
  const span = ctx.tracer.startSpan(`${operation} ${subject}`, { kind: 'consumer', parent, attributes: all });
  return { span, upstream };
}

/** `lib/nats-base-client/nats.js`: publish, request, subscribe. */
export function patchConnection(exports: unknown, ctx: InstrumentationContext, settings: NatsSettings, loaded: LoadedModule): void {
  const proto = classPrototype(exports, 'NatsConnectionImpl', ['publish', 'request', 'subscribe']);
  const make = headersFactory(loaded, './headers.js');
  const skip = (self: unknown, subject: unknown): boolean =>
    typeof subject !== 'string' || subject.length === 0 || isTracingSuppressed() || settings.ignore(subject) ||
    isSystemSubject(subject, (self as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix);
  const usable = (options: unknown): options is Record<string, unknown> | undefined => options === undefined || (typeof options === 'object' && options !== null);
  const canCarry = (self: unknown): boolean => (self as { info?: { headers?: unknown } }).info?.headers !== false;

  function producer(self: unknown, operation: string, subject: string, data: unknown, options: Record<string, unknown> | undefined): { span: SpanHandle; carried: Context; traced: Record<string, unknown> } {
    const parent = producerParent(ctx, options?.headers);
    const attributes = baseAttributes(operation, 'send', subject);
    const size = bodySize(data);
    if (size !== undefined) attributes[MESSAGING.bodySize] = size;
    peer(self, attributes);
    stageAttributes('enqueue', attributes, subject);
    const span = ctx.tracer.startSpan(`${operation} ${subject}`, { kind: 'producer', parent, attributes });
    const carried = parent.withSpan(span);
    const traced = canCarry(self) ? { ...options, headers: tracedHeaders(make, options?.headers, ctx, carried) } : { ...options };
    return { span, carried, traced };
  }

  wrap(proto, 'publish', (original) =>
    function publish(this: unknown, subject: unknown, data: unknown, options: unknown, ...rest: unknown[]): unknown {
      if (skip(this, subject) || !usable(options)) return original.call(this, subject, data, options, ...rest);
      const { span, traced } = producer(this, 'publish', subject as string, data, options);
      try {
        const result = original.call(this, subject, data, traced, ...rest);
        span.end();
        return result;
      } catch (error) {
        failSpan(span, error);
        span.end();
        throw error;
      }
    },
  );

  wrap(proto, 'request', (original) =>
    function request(this: unknown, subject: unknown, data: unknown, options: unknown, ...rest: unknown[]): unknown {
      if (skip(this, subject) || !usable(options)) return original.call(this, subject, data, options, ...rest);
      const { span, carried, traced } = producer(this, 'request', subject as string, data, options);
      // The request's own publish and reply subscription are part of this span, not spans of their own.
      return callAndEnd(span, () => runSuppressed(() => original.call(this, subject, data, traced, ...rest), carried));
    },
  );

  wrap(proto, 'subscribe', (original) =>
    function subscribe(this: unknown, subject: unknown, options: unknown, ...rest: unknown[]): unknown {
      if (!usable(options)) return original.call(this, subject, options, ...rest);
      if (skip(this, subject)) {
        // The client's own subscriptions (JetStream deliveries to an inbox) feed JetStream messages to
        // the application's callbacks: each dispatch gets a scope where the message's context can be entered.
        const own = options?.callback;
        if (typeof own !== 'function' || typeof subject !== 'string' || isTracingSuppressed() || settings.ignore(subject)) return original.call(this, subject, options, ...rest);
        const callback = function (this: unknown, ...args: unknown[]): unknown {
          return dispatched(() => (own as Fn).apply(this, args));
        };
        return original.call(this, subject, { ...options, callback }, ...rest);
      }
      const group = typeof options?.queue === 'string' && options.queue.length > 0 ? options.queue : undefined;
      const extra: Attributes = group === undefined ? {} : { [MESSAGING.consumerGroup]: group };
      const user = options?.callback;
      if (typeof user !== 'function') {
        const sub = original.call(this, subject, options, ...rest);
        if (typeof sub === 'object' && sub !== null) iteratedSubscriptions.add(sub);
        return sub;
      }
      const callback = function (this: unknown, error: unknown, message: unknown): unknown {
        if ((error !== null && error !== undefined) || typeof message !== 'object' || message === null) return (user as Fn).call(this, error, message);
        const { span, upstream } = startDequeue(ctx, message, 'process', extra);
        deliveries.set(message, { span, upstream });
        return dispatched(() => runInSpan(upstream, span, () => (user as Fn).call(this, error, message)));
      };
      return original.call(this, subject, { ...options, callback }, ...rest);
    },
  );
}

/**
 * `lib/nats-base-client/queued_iterator.js`: the async iterator behind core subscriptions, JetStream
 * `consume()`/`fetch()`, ordered consumers and push/pull subscriptions. A core subscription's message
 * gets its dequeue span here, lasting until the loop asks for the next one (the loop body's time);
 * for every traced message the loop body runs in its context (`enterSlot`).
 */
export function patchQueuedIterator(exports: unknown, ctx: InstrumentationContext): void {
  const proto = classPrototype(exports, 'QueuedIteratorImpl', [Symbol.asyncIterator]);
  wrap(proto, Symbol.asyncIterator, (original) =>
    function iterator(this: unknown): unknown {
      const inner = original.call(this) as AsyncIterator<unknown> | undefined;
      if (inner === null || typeof inner !== 'object' || typeof inner.next !== 'function' || isTracingSuppressed()) return inner;
      const core = iteratedSubscriptions.has(this as object);
      // The loop starts here, in its frame: every message's slot starts from this context.
      const base = activeContext();
      let open: SpanHandle | undefined;
      const close = () => {
        open?.end();
        open = undefined;
      };
      const traced: AsyncIterableIterator<unknown> = {
        next(...args: [] | [unknown]) {
          close();
          const pending = inner.next(...args);
          const slot = enterSlot(base);
          return pending.then((result) => {
            const message = result.value;
            if (result.done === true || typeof message !== 'object' || message === null) return result;
            try {
              if (core) {
                const { span, upstream } = startDequeue(ctx, message, 'process', {});
                deliveries.set(message, { span, upstream });
                open = span;
              }
              fillSlot(slot, deliveredContext(message));
            } catch {
              // Instrumentation trouble stays here: the loop gets its message.
            }
            return result;
          });
        },
        return(value?: unknown) {
          close();
          leaveSlot(base);
          return inner.return !== undefined ? inner.return(value) : Promise.resolve({ done: true, value });
        },
        throw(error?: unknown) {
          close();
          leaveSlot(base);
          return inner.throw !== undefined ? inner.throw(error) : Promise.reject(error instanceof Error ? error : new Error(String(error)));
        },
        [Symbol.asyncIterator]() {
          return traced;
        },
      };
      return traced;
    },
  );
}

/**
 * `lib/jetstream/consumer.js`: `next()` of pull and ordered consumers resolves to one message; the
 * code after the application's `await` runs in its context (`awaitedMessage`).
 */
export function patchConsumers(exports: unknown): void {
  for (const name of ['PullConsumerImpl', 'OrderedPullConsumerImpl']) {
    const proto = classPrototype(exports, name, ['next']);
    wrap(proto, 'next', (original) =>
      function next(this: unknown, ...args: unknown[]): unknown {
        return awaitedMessage(this as object, original.apply(this, args), deliveredContext);
      },
    );
  }
}

/** `lib/nats-base-client/msg.js`: `respond` (a producer span without a stage: a reply is awaited by its request span, not queued). */
export function patchMsg(exports: unknown, ctx: InstrumentationContext, loaded: LoadedModule): void {
  const proto = classPrototype(exports, 'MsgImpl', ['respond']);
  const make = headersFactory(loaded, './headers.js');
  wrap(proto, 'respond', (original) =>
    function respond(this: unknown, data: unknown, options: unknown, ...rest: unknown[]): unknown {
      const self = this as { subject?: unknown; reply?: unknown };
      const subject = self.subject;
      if (isTracingSuppressed() || typeof subject !== 'string' || typeof self.reply !== 'string' || self.reply.length === 0 ||
          self.reply.startsWith('$JS.') || isSystemSubject(subject) || (options !== undefined && (typeof options !== 'object' || options === null))) {
        return original.call(this, data, options, ...rest);
      }
      const given = options as Record<string, unknown> | undefined;
      const parent = activeContext();
      const attributes = baseAttributes('respond', 'send', subject);
      const size = bodySize(data);
      if (size !== undefined) attributes[MESSAGING.bodySize] = size;
      const span = ctx.tracer.startSpan(`respond ${subject}`, { kind: 'producer', parent, attributes });
      const traced = { ...given, headers: tracedHeaders(make, given?.headers, ctx, parent.withSpan(span)) };
      return callAndEnd(span, () => original.call(this, data, traced, ...rest));
    },
  );
}

/** `lib/jetstream/jsclient.js`: `js.publish` (the stream stores it; a consumer dequeues it later). */
export function patchJetStream(exports: unknown, ctx: InstrumentationContext, settings: NatsSettings, loaded: LoadedModule): void {
  const proto = classPrototype(exports, 'JetStreamClientImpl', ['publish']);
  const make = headersFactory(loaded, '../nats-base-client/headers.js');
  wrap(proto, 'publish', (original) =>
    function publish(this: unknown, subject: unknown, data: unknown, options: unknown, ...rest: unknown[]): unknown {
      if (typeof subject !== 'string' || subject.length === 0 || isTracingSuppressed() || isSystemSubject(subject) || settings.ignore(subject) ||
          (options !== undefined && (typeof options !== 'object' || options === null))) {
        return original.call(this, subject, data, options, ...rest);
      }
      const given = options as Record<string, unknown> | undefined;
      const parent = producerParent(ctx, given?.headers);
      const attributes = baseAttributes('publish', 'send', subject);
      const size = bodySize(data);
      if (size !== undefined) attributes[MESSAGING.bodySize] = size;
      if (typeof given?.msgID === 'string' && given.msgID.length > 0) attributes[MESSAGING.messageId] = given.msgID;
      peer((this as { nc?: unknown }).nc, attributes);
      stageAttributes('enqueue', attributes, subject);
      const span = ctx.tracer.startSpan(`publish ${subject}`, { kind: 'producer', parent, attributes });
      const carried = parent.withSpan(span);
      const traced = { ...given, headers: tracedHeaders(make, given?.headers, ctx, carried) };
      return callAndEnd(span, () => {
        const acked = runSuppressed(() => original.call(this, subject, data, traced, ...rest), carried);
        if (acked === null || typeof acked !== 'object' || typeof (acked as { then?: unknown }).then !== 'function') return acked;
        return (acked as Promise<unknown>).then((ack) => {
          const { stream, seq } = (ack ?? {}) as { stream?: unknown; seq?: unknown };
          if (typeof stream === 'string') span.setAttribute('messaging.nats.stream', stream);
          if (typeof seq === 'number') span.setAttribute('messaging.nats.stream.sequence', seq);
          return ack;
        });
      });
    },
  );
}

/** `lib/jetstream/jsclient.js`: the legacy `js.pull()` resolves to one message, awaited like `consumer.next()`. */
export function patchJetStreamPull(exports: unknown): void {
  const proto = classPrototype(exports, 'JetStreamClientImpl', ['pull']);
  wrap(proto, 'pull', (original) =>
    function pull(this: unknown, ...args: unknown[]): unknown {
      return awaitedMessage(this as object, original.apply(this, args), deliveredContext);
    },
  );
}

/** `lib/jetstream/jsmsg.js`: every JetStream message handed out is a dequeue; ack/nak/term are the consume stage. */
export function patchJsMsg(exports: unknown, ctx: InstrumentationContext, settings: NatsSettings): void {
  const proto = classPrototype(exports, 'JsMsgImpl', ['ack', 'nak', 'term', 'ackAck']);
  if (typeof (exports as { toJsMsg?: unknown }).toJsMsg !== 'function') throw new Error('toJsMsg is not a function');
  wrap(exports as { toJsMsg: Fn }, 'toJsMsg', (original) =>
    function toJsMsg(this: unknown, ...args: unknown[]): unknown {
      const message = original.apply(this, args);
      if (typeof message !== 'object' || message === null) return message;
      const subject = (message as { subject?: unknown }).subject;
      if (typeof subject !== 'string' || isSystemSubject(subject) || settings.ignore(subject)) return message;
      const info = (message as { info?: { stream?: unknown; consumer?: unknown; streamSequence?: unknown; deliveryCount?: unknown } }).info;
      const attributes: Attributes = {};
      if (typeof info?.stream === 'string') attributes['messaging.nats.stream'] = info.stream;
      if (typeof info?.consumer === 'string') attributes[MESSAGING.consumerGroup] = info.consumer;
      if (typeof info?.streamSequence === 'number') attributes['messaging.nats.stream.sequence'] = info.streamSequence;
      const count = info?.deliveryCount;
      const delivery: DeliveryFacts = Number.isSafeInteger(count) && (count as number) >= 1 ? { count: count as number, redelivered: (count as number) > 1 } : CORE_DELIVERY;
      const { span, upstream } = startDequeue(ctx, message, 'receive', attributes, delivery);
      deliveries.set(message, { span, upstream });
      span.end();
      // Made while a subscription callback is dispatched: the application's callback that receives it
      // runs later in this same dispatch, in a scope of its own, so the message's context stays inside it.
      if (dispatchDepth > 0) contextStorage().enterWith(upstream.withSpan(span));
      return message;
    },
  );
  const settle = (operation: string) => (original: Fn) =>
    function settleMessage(this: unknown, ...args: unknown[]): unknown {
      const self = this as { didAck?: unknown; subject?: unknown };
      const delivery = deliveries.get(self as object);
      if (self.didAck === true || delivery === undefined) return original.apply(this, args);
      const subject = typeof self.subject === 'string' ? self.subject : '';
      const attributes = baseAttributes(operation, 'settle', subject);
      stageAttributes('consume', attributes);
      const span = ctx.tracer.startSpan(`${operation} ${subject}`, { kind: 'consumer', parent: delivery.span, attributes });
      return callAndEnd(span, () => runSuppressed(() => original.apply(this, args), delivery.upstream.withSpan(span)));
    };
  wrap(proto, 'ack', settle('ack'));
  wrap(proto, 'nak', settle('nak'));
  wrap(proto, 'term', settle('term'));
  wrap(proto, 'ackAck', settle('ack'));
}
