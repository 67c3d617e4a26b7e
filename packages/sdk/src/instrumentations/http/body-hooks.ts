import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import { applyInContext } from '../../context/context-manager.js';
import { wrap } from '../core/shim.js';
import { EXCHANGE, type WithExchange } from './exchange.js';
import { MESSAGE_CONTEXT, type WithMessageContext } from './message-context.js';

type Fn = (...args: unknown[]) => unknown;
type Patched = { target: object; name: string }[];

/**
 * Body bytes and timings come from three prototype hooks shared by server and client: the parser's
 * `push` into every IncomingMessage (bytes actually received, and when the body completed), the
 * `write`/`end` of every OutgoingMessage (bytes actually written) and its `emit` ('finish',
 * 'close', 'response', 'error'). Messages that carry no exchange pay one property read.
 * Adding listeners instead would change behaviour (a 'data' listener starts the flow; a 'response'
 * listener stops Node from discarding an unread response).
 *
 * The two `emit` hooks also run every event of a traced message in its context (message-context.ts):
 * 'data', 'end', 'readable', 'error', 'close', 'finish'… — and so everything a stream does from
 * them (pipe, pipeline callbacks, a Transform's later chunks). Hooking `emit` rather than binding
 * each listener leaves listeners as they were added (`removeListener`, `listeners()`, `once` see the
 * caller's functions) and costs nothing per listener and no allocation per event. An event nobody
 * listens to ('prefinish', 'close', 'resume'… most of a request's events) is emitted as it is:
 * entering and leaving a context costs more than the emit, and there is no code to run in it.
 */
export function patchBodyHooks(h: typeof http, patched: Patched): void {
  const incoming = h.IncomingMessage.prototype as unknown as Record<string, Fn>;
  if (
    wrap(incoming, 'emit', (original) =>
      function emit(this: WithMessageContext & EventEmitter, event: string | symbol) {
        const ctx = this[MESSAGE_CONTEXT];
        // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every event
        return ctx === undefined || unheard(this, event) ? Reflect.apply(original, this, arguments) : applyInContext(ctx, original, this, arguments);
      } as Fn,
    )
  ) patched.push({ target: incoming, name: 'emit' });
  if (
    wrap(incoming, 'push', (original) =>
      function push(this: WithExchange, chunk: unknown) {
        const exchange = this[EXCHANGE];
        if (exchange !== undefined) exchange.received(chunk);
        // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
        return Reflect.apply(original, this, arguments);
      },
    )
  ) patched.push({ target: incoming, name: 'push' });

  const outgoing = h.OutgoingMessage.prototype as unknown as Record<string, Fn>;
  for (const name of ['write', 'end'] as const) {
    if (
      wrap(outgoing, name, (original) =>
        function writeOrEnd(this: WithExchange & { writableEnded?: boolean }, chunk: unknown, encoding: unknown): unknown {
          const exchange = this[EXCHANGE];
          // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
          if (exchange === undefined || this.writableEnded === true) return Reflect.apply(original, this, arguments);
          if (exchange.outStart < 0) exchange.outStart = performance.now();
          // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
          const result = Reflect.apply(original, this, arguments);
          exchange.wrote(typeof chunk === 'function' ? undefined : chunk, encoding);
          return result;
        },
      )
    ) patched.push({ target: outgoing, name });
  }
  if (
    wrap(outgoing, 'emit', (original) =>
      function emit(this: WithExchange & WithMessageContext & EventEmitter, event: string | symbol, arg: unknown) {
        const exchange = this[EXCHANGE];
        if (exchange !== undefined) exchange.outgoingEvent(event, arg, this);
        const ctx = this[MESSAGE_CONTEXT];
        // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
        if (ctx === undefined) return Reflect.apply(original, this, arguments);
        // A client request's response belongs to the same caller as the request.
        if (event === 'response' && arg !== null && typeof arg === 'object') (arg as WithMessageContext)[MESSAGE_CONTEXT] = ctx;
        // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
        if (unheard(this, event)) return Reflect.apply(original, this, arguments);
        // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every message
        return applyInContext(ctx, original, this, arguments);
      } as Fn,
    )
  ) patched.push({ target: outgoing, name: 'emit' });
}

/** No listener for `event` (an 'error' always counts as heard: its error monitors run in the context too). */
function unheard(emitter: EventEmitter, event: string | symbol): boolean {
  return event !== 'error' && emitter.listenerCount(event) === 0;
}
