/**
 * The part of a Zipkin trace search the store cannot express (remote service names, bare tag keys,
 * annotation values, an error message), checked on the Zipkin form of the spans the store returned.
 * Like the store, it asks for ONE span that meets every condition.
 */
import { ZIPKIN_ERROR_TAG, type ZipkinSpan } from '@linktrace/model';
import type { AnnotationTerm } from './annotation-query.js';

export interface ZipkinSpanCondition {
  serviceName?: string;
  spanName?: string;
  remoteServiceName?: string;
  terms: readonly AnnotationTerm[];
  minDurationUs?: number;
  maxDurationUs?: number;
}

/**
 * True when the store's own filters are exact, so no trace needs checking here. A `key=value` term
 * is also given to the store, but the store matches resource and event attributes too, and some
 * Zipkin tags (`error`, `otel.status_code`, `linktrace.rpcid`) are span fields in the model.
 */
export function storeCoversCondition(c: ZipkinSpanCondition): boolean {
  if (c.remoteServiceName !== undefined) return false;
  for (const t of c.terms) if (t.value !== undefined || t.key !== ZIPKIN_ERROR_TAG) return false;
  return true;
}

function termHolds(span: ZipkinSpan, t: AnnotationTerm): boolean {
  const tag = span.tags?.[t.key];
  if (t.value !== undefined) return tag === t.value;
  if (tag !== undefined) return true;
  const annotations = span.annotations;
  if (annotations !== undefined) for (const a of annotations) if (a.value === t.key) return true;
  return false;
}

export function spanMeets(span: ZipkinSpan, c: ZipkinSpanCondition): boolean {
  if (c.serviceName !== undefined && span.localEndpoint?.serviceName !== c.serviceName) return false;
  if (c.spanName !== undefined && span.name !== c.spanName) return false;
  if (c.remoteServiceName !== undefined && span.remoteEndpoint?.serviceName !== c.remoteServiceName) return false;
  if (c.minDurationUs !== undefined || c.maxDurationUs !== undefined) {
    const d = span.duration;
    if (d === undefined) return false;
    if (c.minDurationUs !== undefined && d < c.minDurationUs) return false;
    if (c.maxDurationUs !== undefined && d > c.maxDurationUs) return false;
  }
  for (const t of c.terms) if (!termHolds(span, t)) return false;
  return true;
}

export function traceMeets(spans: readonly ZipkinSpan[], c: ZipkinSpanCondition): boolean {
  for (const s of spans) if (spanMeets(s, c)) return true;
  return false;
}
