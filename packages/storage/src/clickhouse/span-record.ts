/**
 * How the ClickHouse store keeps a span: the whole span as one JSON text (`record`, read back
 * exactly, merged on read like every backend's records) next to the columns that searches, sorting
 * and retention test. Attribute values that are bytes (Uint8Array, OTLP `bytesValue`) have no JSON
 * form; they are written as `{"$bytes": base64}`, which no other attribute value can look like
 * (values are scalars, arrays of scalars or bytes).
 */
import type { AttributeValue, Attributes, Span } from '@linktrace/model';
import { KIND_CODE, STATUS_NUMBER } from '../embedded/span-row-encoder.js';

const BYTES = '$bytes';

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const bytes = (value as Record<string, unknown>)[BYTES];
    if (typeof bytes === 'string' && Object.keys(value).length === 1) return new Uint8Array(Buffer.from(bytes, 'base64'));
  }
  return value;
}

export function encodeRecord(span: Span): string {
  return JSON.stringify(span, replacer);
}

export function decodeRecord(text: string): Span {
  return JSON.parse(text, reviver) as Span;
}

/** The text form searches compare (DESIGN §6, `TraceQuery.attributes`): strings as they are, numbers and booleans by `String`. */
export function attributeText(v: AttributeValue): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
      return String(v);
    default:
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : JSON.stringify(v);
  }
}

/** Between key and value in an `attr_kv` entry; `has(attr_kv, key + SEP + text)` is an exact test. */
export const KV_SEP = '\x1f';

/** Every `key SEP text` a search may match on this span: its attributes, resource, scope, events and links. */
export function searchPairs(span: Span): string[] {
  const out = new Set<string>();
  const add = (attrs: Attributes | undefined): void => {
    if (attrs === undefined) return;
    for (const k of Object.keys(attrs)) out.add(k + KV_SEP + attributeText(attrs[k]!));
  };
  add(span.attributes);
  add(span.resource);
  add(span.scope?.attributes);
  for (const e of span.events) add(e.attributes);
  for (const l of span.links) add(l.attributes);
  return [...out];
}

/** Trace ids as stored: a Zipkin 64-bit id padded to 32 hex, so both spellings find one trace. */
export function traceKey(traceId: string): string {
  return traceId.length === 16 ? `0000000000000000${traceId}` : traceId;
}

export { KIND_CODE, STATUS_NUMBER };
