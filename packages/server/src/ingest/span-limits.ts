/**
 * The server's own attribute limits, stricter than the codecs' sanity bounds and configurable. A span
 * over a limit rejects the whole request with the limit's error code, so that the sender learns of it
 * instead of losing attributes silently; on Zipkin, whose 202 cannot say so and whose reporters drop
 * a refused batch whole, only that span is left out (counted and logged, see receive.ts).
 */
import type { Attributes, Span } from '@linktrace/model';
import type { IngestLimits } from '../config.js';

export interface LimitViolation {
  code: 'too_many_attributes' | 'attribute_too_large';
  message: string;
}

function valueLength(v: Attributes[string]): number {
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object') return 0;
  if (v instanceof Uint8Array) return v.byteLength;
  let longest = 0;
  for (let i = 0; i < v.length; i++) {
    const item = v[i];
    if (typeof item === 'string' && item.length > longest) longest = item.length;
  }
  return longest;
}

/** The first problem of one map, described relative to `where`; undefined when within limits. */
function checkMap(attrs: Attributes | undefined, limits: IngestLimits, where: string): LimitViolation | undefined {
  if (attrs === undefined) return undefined;
  let count = 0;
  for (const key in attrs) {
    if (++count > limits.maxAttributesPerSpan) {
      return { code: 'too_many_attributes', message: `${where} has more than ${limits.maxAttributesPerSpan} attributes` };
    }
    if (valueLength(attrs[key]) > limits.maxAttributeValueLength) {
      return {
        code: 'attribute_too_large',
        message: `${where}: attribute "${key.slice(0, 128)}" is longer than ${limits.maxAttributeValueLength}`,
      };
    }
  }
  return undefined;
}

/** The first problem of span `i`; `checkedResource` is a resource map already found within limits. */
function checkSpan(span: Span, i: number, limits: IngestLimits, checkedResource: Attributes | undefined): LimitViolation | undefined {
  const label = `span ${i} (id ${span.spanId})`;
  let v = checkMap(span.attributes, limits, label);
  if (v !== undefined) return v;
  if (span.resource !== undefined && span.resource !== checkedResource) {
    v = checkMap(span.resource, limits, `${label} resource`);
    if (v !== undefined) return v;
  }
  if (span.scope?.attributes !== undefined) {
    v = checkMap(span.scope.attributes, limits, `${label} scope`);
    if (v !== undefined) return v;
  }
  const events = span.events;
  for (let j = 0; j < events.length; j++) {
    v = checkMap(events[j].attributes, limits, `${label} event ${j}`);
    if (v !== undefined) return v;
  }
  const links = span.links;
  for (let j = 0; j < links.length; j++) {
    v = checkMap(links[j].attributes, limits, `${label} link ${j}`);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Checks every span; resource maps shared by many spans are checked once. */
export function checkSpanLimits(spans: readonly Span[], limits: IngestLimits): LimitViolation | undefined {
  let checkedResource: Attributes | undefined;
  for (let i = 0; i < spans.length; i++) {
    const v = checkSpan(spans[i], i, limits, checkedResource);
    if (v !== undefined) return v;
    if (spans[i].resource !== undefined) checkedResource = spans[i].resource;
  }
  return undefined;
}

export interface LimitSplit {
  /** The spans within limits, in order. */
  kept: Span[];
  /** One violation per span left out. */
  refused: LimitViolation[];
}

/**
 * Per span instead of per request, for a receiver whose protocol cannot reject part of a request
 * (Zipkin's 202): the spans over a limit are left out, the others kept. Undefined (and nothing
 * allocated) when every span is within limits.
 */
export function splitBySpanLimits(spans: readonly Span[], limits: IngestLimits): LimitSplit | undefined {
  let split: LimitSplit | undefined;
  let checkedResource: Attributes | undefined;
  for (let i = 0; i < spans.length; i++) {
    const v = checkSpan(spans[i], i, limits, checkedResource);
    if (v === undefined) {
      if (spans[i].resource !== undefined) checkedResource = spans[i].resource;
      split?.kept.push(spans[i]);
    } else {
      split ??= { kept: spans.slice(0, i), refused: [] };
      split.refused.push(v);
    }
  }
  return split;
}
