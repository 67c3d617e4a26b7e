/**
 * The server's own attribute limits, stricter than the codecs' sanity bounds and configurable. A span
 * over a limit rejects the whole request with the limit's error code, so that the sender learns of it
 * instead of losing attributes silently.
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

/** Checks every span; resource maps shared by many spans are checked once. */
export function checkSpanLimits(spans: readonly Span[], limits: IngestLimits): LimitViolation | undefined {
  let lastResource: Attributes | undefined;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    const label = `span ${i} (id ${span.spanId})`;
    let v = checkMap(span.attributes, limits, label);
    if (v !== undefined) return v;
    if (span.resource !== undefined && span.resource !== lastResource) {
      v = checkMap(span.resource, limits, `${label} resource`);
      if (v !== undefined) return v;
      lastResource = span.resource;
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
  }
  return undefined;
}
