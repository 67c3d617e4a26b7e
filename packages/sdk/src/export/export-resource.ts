import { ATTR, type Span } from '@linktrace/model';
import type { Resource } from '../types.js';

/**
 * The resource handed to the exporter with each batch: the configured one (or, when none was given,
 * the service and instance of the batch's first span) plus the cumulative dropped-span counter, so a
 * server can tell that a trace is incomplete because this process dropped spans.
 * One small object per batch, never per span.
 */
export function exportResource(base: Resource | undefined, first: Span, droppedSpans: number): Resource {
  const service = base?.service ?? first.service;
  const instance = base?.instance ?? first.instance;
  const attributes = { ...base?.attributes, [ATTR.droppedSpans]: droppedSpans };
  return instance === undefined ? { service, attributes } : { service, instance, attributes };
}
