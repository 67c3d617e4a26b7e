import type { AttributeScalar, AttributeValue } from '@linktrace/model';
import type { SdkCounters } from './counters.js';
import type { SpanLimits } from './limits.js';

/**
 * Validates and bounds one attribute value. Returns undefined for a value that must be ignored
 * (wrong type, NaN-free check is left to the codecs: NaN and Infinity are legal doubles in OTLP).
 */
export function sanitizeAttributeValue(
  value: unknown,
  limits: SpanLimits,
  counters: SdkCounters,
): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      if (value.length > limits.attributeValueLengthLimit) {
        counters.attributesTruncated++;
        return value.slice(0, limits.attributeValueLengthLimit);
      }
      return value;
    case 'number':
    case 'boolean':
      return value;
    case 'object':
      if (value instanceof Uint8Array) return value;
      if (Array.isArray(value)) return sanitizeArray(value, limits, counters);
      return undefined;
    default:
      return undefined;
  }
}

function sanitizeArray(value: unknown[], limits: SpanLimits, counters: SdkCounters): AttributeValue | undefined {
  if (value.length === 0) return [] as string[];
  const first = typeof value[0];
  if (first !== 'string' && first !== 'number' && first !== 'boolean') return undefined;
  const length = Math.min(value.length, limits.attributeArrayLengthLimit);
  if (length < value.length) counters.attributesTruncated++;
  const out: AttributeScalar[] = new Array<AttributeScalar>(length);
  for (let i = 0; i < length; i++) {
    const element: unknown = value[i];
    // Arrays must be homogeneous on the wire; a mixed array is rejected whole.
    if (typeof element !== first) return undefined;
    out[i] =
      first === 'string' && (element as string).length > limits.attributeValueLengthLimit
        ? (element as string).slice(0, limits.attributeValueLengthLimit)
        : (element as AttributeScalar);
  }
  return out;
}
