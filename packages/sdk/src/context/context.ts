import type { Baggage } from '../types.js';
import type { SpanHandle } from '../trace/span-handle.js';

/**
 * An immutable bag of what flows with the work: the active span and the baggage.
 * Deriving a context copies three references, so it is cheap enough for every active span.
 */
export class Context {
  static readonly ROOT = new Context(undefined, undefined, undefined);

  private constructor(
    readonly span: SpanHandle | undefined,
    readonly baggage: Baggage | undefined,
    private readonly values: ReadonlyMap<symbol, unknown> | undefined,
  ) {}

  withSpan(span: SpanHandle | undefined): Context {
    return new Context(span, this.baggage, this.values);
  }

  withBaggage(baggage: Baggage | undefined): Context {
    return new Context(this.span, baggage, this.values);
  }

  /** Extension point for instrumentations (e.g. "suppress tracing" flags). */
  withValue(key: symbol, value: unknown): Context {
    const values = new Map(this.values);
    values.set(key, value);
    return new Context(this.span, this.baggage, values);
  }

  getValue(key: symbol): unknown {
    return this.values?.get(key);
  }
}
