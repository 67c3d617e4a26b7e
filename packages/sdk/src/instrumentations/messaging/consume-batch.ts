import type { Attributes } from '@linktrace/model';
import { runInSpan } from '../../stages/run-in-span.js';
import { activeContext } from '../../context/context-manager.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { LinkSpec, Tracer } from '../../trace/tracer.js';
import type { SpanContext } from '../../types.js';
import { MESSAGING } from './semconv.js';
import { stageAttributes } from './stage-attributes.js';

export interface ConsumeBatchOptions {
  /** Span name; default `process <destination>` or `process batch`. */
  name?: string;
  /** Extra attributes (names and counts, never payloads). */
  attributes?: Attributes;
}

/**
 * Runs `fn` in one `consume` span that links to every message's producer span: a batch handled as
 * one unit of work belongs to many traces, so it is linked to them rather than a child of one.
 */
export function runBatchSpan<R>(
  tracer: Tracer,
  system: string,
  destination: string | undefined,
  producers: readonly (SpanContext | undefined)[],
  fn: (span: SpanHandle) => R,
  options: ConsumeBatchOptions | undefined,
): R {
  const links: LinkSpec[] = [];
  for (const producer of producers) if (producer !== undefined) links.push({ context: producer });
  const attributes: Attributes = { ...options?.attributes };
  attributes[MESSAGING.system] = system;
  attributes[MESSAGING.operationName] = 'process';
  attributes[MESSAGING.operationType] = 'process';
  attributes[MESSAGING.batchCount] = producers.length;
  if (destination !== undefined) attributes[MESSAGING.destination] = destination;
  stageAttributes('consume', attributes);
  const name = typeof options?.name === 'string' && options.name.length > 0 ? options.name : `process ${destination ?? 'batch'}`;
  const ctx = activeContext();
  const span = tracer.startSpan(name, { kind: 'consumer', parent: ctx, links, attributes });
  return runInSpan(ctx, span, fn);
}
