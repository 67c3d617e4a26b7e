import type { SpanHandle } from '../../trace/span-handle.js';

/** Where an exchange hangs on Node's request and response objects. */
export const EXCHANGE = Symbol('linktrace.httpExchange');

export type WithExchange = { [EXCHANGE]?: Exchange };

/**
 * One traced HTTP exchange as seen from this process (server or client side): the span and the
 * counters fed by the body hooks. Allocated only for recording spans; one object per exchange.
 * Times are `performance.now()` readings; -1 = not happened.
 */
export abstract class Exchange {
  bytesIn = 0;
  bytesOut = 0;
  /** Last incoming body byte (request on a server, response on a client). */
  inEnd = -1;
  /** First outgoing body write or `end()` call. */
  outStart = -1;
  /** Outgoing message handed to the OS ('finish'). */
  outEnd = -1;
  ended = false;

  constructor(
    readonly span: SpanHandle,
    readonly startPerf: number,
  ) {}

  /** A chunk the HTTP parser pushed into the incoming message; `null` = the body is complete. */
  received(chunk: unknown): void {
    if (chunk === null) {
      if (this.inEnd < 0) {
        this.inEnd = performance.now();
        this.incomingEnded();
      }
    } else if (chunk instanceof Uint8Array) {
      this.bytesIn += chunk.byteLength;
    } else if (typeof chunk === 'string') {
      this.bytesIn += Buffer.byteLength(chunk);
    }
  }

  /** A `write(chunk, encoding)` or `end(chunk, encoding)` the outgoing message accepted. */
  wrote(chunk: unknown, encoding: unknown): void {
    if (chunk instanceof Uint8Array) this.bytesOut += chunk.byteLength;
    else if (typeof chunk === 'string') this.bytesOut += Buffer.byteLength(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  }

  protected abstract incomingEnded(): void;
  /** An event of the outgoing message (server response or client request), before its listeners run. */
  abstract outgoingEvent(event: string | symbol, arg: unknown, emitter: unknown): void;
}
