import { createHash } from 'node:crypto';

/**
 * A record's JSON with object keys sorted at every depth, so that two copies of one record hash alike
 * whatever order their fields were built in. Values with a `toJSON` (dates, buffers) are converted
 * first, as JSON.stringify would; `undefined` fields are left out; a bigint is written as its decimal
 * string. Throws on a cycle.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      break;
    default:
      // undefined, functions and symbols have no JSON form; inside arrays JSON writes null for them.
      return 'null';
  }
  if (value === null) return 'null';
  if (seen.has(value)) throw new TypeError('record has a cycle');
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[' + value.map((v: unknown) => write(v, seen)).join(',') + ']';
  } else {
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(obj).sort()) {
      const v = obj[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(JSON.stringify(key) + ':' + write(v, seen));
    }
    out = '{' + parts.join(',') + '}';
  }
  seen.delete(value);
  return out;
}

/**
 * The hash the reconciler records for a record read as a payload: SHA-256 of its canonical JSON,
 * lowercase hex. Exported so that a reader (or a database trigger) can produce the same hash itself.
 */
export function hashRecord(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}
