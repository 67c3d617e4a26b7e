import type { AttributeValue, Attributes } from '@linktrace/model';

export type FlatValue = string | number | boolean;

/**
 * One attribute value as a JSON scalar whose type does not depend on the value: arrays become their
 * JSON text, bytes base64, and NaN/±Infinity strings (JSON.stringify would silently turn them into
 * null). Search engines such as Elasticsearch map a field by the first type they see, so a field that
 * is sometimes an array and sometimes a string would be rejected.
 */
export function flatValue(value: AttributeValue): FlatValue {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  return JSON.stringify(value.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
}

export function flatAttributes(attributes: Attributes | undefined): Record<string, FlatValue> {
  const out: Record<string, FlatValue> = {};
  if (attributes === undefined) return out;
  for (const key in attributes) out[key] = flatValue(attributes[key] as AttributeValue);
  return out;
}
