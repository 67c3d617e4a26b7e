/**
 * Attribute maps as JSON can carry them, in the native format's tagged forms (so clients decode
 * one convention): bytes as `{ bytes: base64 }`, NaN/±Infinity as `{ double: "NaN" }`. Maps that
 * are already JSON-safe (nearly all) are returned as they are, not copied.
 */
import { Buffer } from 'node:buffer';
import type { AttributeScalar, AttributeValue, Attributes, NativeAttributeValue, NativeAttributes, NativeDouble } from '@linktrace/model';

function tagDouble(n: number): NativeDouble {
  return { double: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' };
}

function isSafe(v: AttributeValue): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v instanceof Uint8Array) return false;
  if (typeof v === 'object') for (const x of v) if (typeof x === 'number' && !Number.isFinite(x)) return false;
  return true;
}

function convert(v: AttributeValue): NativeAttributeValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v : tagDouble(v);
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (typeof v === 'object') return v.map((x: AttributeScalar) => (typeof x === 'number' && !Number.isFinite(x) ? tagDouble(x) : x));
  return v;
}

export function jsonAttributes(attrs: Attributes): NativeAttributes {
  for (const key in attrs) {
    if (!isSafe(attrs[key]!)) {
      const out: NativeAttributes = {};
      for (const k in attrs) out[k] = convert(attrs[k]!);
      return out;
    }
  }
  return attrs as NativeAttributes;
}
