import type { Attributes, SpanKind } from '@linktrace/model';
import type { Context } from '../context/context.js';
import type { SpanHandle } from '../trace/span-handle.js';
import type { LinkSpec } from '../trace/tracer.js';
import type { SpanContext, TextMapGetter } from '../types.js';

/** Options every stage helper takes. Omitted fields follow the stage's defaults. */
export interface StageOptions {
  /** Span name; default `<stage> <entity type>`, plus ` to <target>` for a write or enqueue. */
  name?: string;
  /** Overrides the stage's span kind (e.g. a receive that is a `consumer`). */
  kind?: SpanKind;
  /** Extra attributes (names, counts; never payloads). The stage attributes win over these. */
  attributes?: Attributes;
  /** The parent, as for `Tracer.startSpan`; default the active context, `null` starts a new trace. */
  parent?: Context | SpanHandle | SpanContext | null;
  links?: readonly LinkSpec[];
  /** Report a start record now (DESIGN §3), overriding the tracing's default. */
  startRecord?: boolean;
}

/** Options of the stages that take work from upstream: receive, dequeue, consume. */
export interface IncomingStageOptions<C = unknown> extends StageOptions {
  /**
   * The incoming carrier (request or message headers) holding the upstream context. When it holds one,
   * it replaces `parent` (relation `parent`) or is added to `links` (relation `link`).
   */
  headers?: C;
  /** Reads `headers`; default `headerGetter` (plain header objects in any case, Buffer values, `getHeader`). */
  getter?: TextMapGetter<C>;
  /**
   * `parent` (default): the stage continues the upstream trace. `link`: the stage stays in the
   * current trace (or starts one) and links to the upstream span, as a batch consumer does.
   */
  relation?: 'parent' | 'link';
  /**
   * Which delivery of a queued message this is, when the broker says: `count` (1 = first; e.g.
   * JetStream's delivery count, RabbitMQ's `x-delivery-count` + 1) or `redelivered` (RabbitMQ's
   * flag). A later delivery stays a child of the producer from `headers` but takes a position of
   * its own (`P.0.n`, docs/model.md "Positions of redeliveries"), so that what it calls never
   * shares positions with the first delivery's calls. Used with `headers` and relation `parent`.
   */
  delivery?: { count?: number; redelivered?: boolean };
}
