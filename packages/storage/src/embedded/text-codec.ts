/**
 * How the embedded store writes typed values as text. Stored text uses a few control characters as
 * separators; user text never contains them raw (`escapeText` maps them, and NUL, to ESC + a
 * printable), so every separator found in stored text is a real one and substring search is exact.
 *
 * Attribute values are stored as their text form (what searches compare) plus a one-letter kind
 * (what reads restore): s string, n number, b boolean, a array (JSON), x bytes (base64).
 */
import type { AttributeValue, Attributes } from '@linktrace/model';
import { setOwn } from './own-property.js';

export const ESC = '\x1b';
/** Marks an absent optional field (distinct from an empty string). */
export const ABSENT = '\x1c';
/** Between the fields of a staged row. */
export const FIELD = '\x1d';
/** Before each entry of a list or bag. */
export const ENTRY = '\x1e';
/** Between key, value and kind inside an entry. */
export const UNIT = '\x1f';

export type ValueKind = 's' | 'n' | 'b' | 'a' | 'x';

// Matching control characters is the point of these two.
// eslint-disable-next-line no-control-regex
const ESCAPED_RE = /[\x00\x1b-\x1f]/g;
// eslint-disable-next-line no-control-regex
const ESCAPE_PAIR_RE = /\x1b([\s\S])/g;

/** `s` with separators and NUL replaced; returns `s` itself (no allocation) in the common case. */
export function escapeText(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 && (c === 0 || c >= 27)) return s.replace(ESCAPED_RE, escapeChar);
  }
  return s;
}

function escapeChar(ch: string): string {
  return ESC + String.fromCharCode(ch.charCodeAt(0) + 64);
}

export function unescapeText(s: string): string {
  return s.indexOf(ESC) < 0 ? s : s.replace(ESCAPE_PAIR_RE, unescapePair);
}

function unescapePair(_: string, ch: string): string {
  return String.fromCharCode(ch.charCodeAt(0) - 64);
}

export function kindOf(v: AttributeValue): ValueKind {
  switch (typeof v) {
    case 'string':
      return 's';
    case 'number':
      return 'n';
    case 'boolean':
      return 'b';
    default:
      return v instanceof Uint8Array ? 'x' : 'a';
  }
}

/** The stored (and searched) text of a value, already escaped. */
export function valueText(v: AttributeValue): string {
  switch (typeof v) {
    case 'string':
      return escapeText(v);
    case 'number':
    case 'boolean':
      return String(v);
    default:
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      // JSON.stringify escapes every control character, so the result needs no escaping.
      return JSON.stringify(v);
  }
}

export function decodeValue(kind: string | undefined, text: string): AttributeValue {
  switch (kind) {
    case 'n':
      return Number(text);
    case 'b':
      return text === 'true';
    case 'a':
      return JSON.parse(text) as AttributeValue;
    case 'x':
      return new Uint8Array(Buffer.from(text, 'base64'));
    default:
      return unescapeText(text);
  }
}

/**
 * A whole attribute map as one string: per entry ENTRY key UNIT text UNIT kind. Dictionary-friendly
 * (a resource repeats on every span of a process) and searchable with `bagNeedle`.
 */
export function encodeBag(attrs: Attributes): string {
  let out = '';
  for (const key of Object.keys(attrs)) {
    const v = attrs[key]!;
    out += ENTRY + escapeText(key) + UNIT + valueText(v) + UNIT + kindOf(v);
  }
  return out;
}

export function decodeBag(bag: string): Attributes {
  const attrs: Attributes = {};
  if (bag === '') return attrs;
  const entries = bag.split(ENTRY);
  // entries[0] is the empty text before the first ENTRY.
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    const a = e.indexOf(UNIT);
    const b = e.lastIndexOf(UNIT);
    setOwn(attrs, unescapeText(e.slice(0, a)), decodeValue(e.slice(b + 1), e.slice(a + 1, b)));
  }
  return attrs;
}

/** Substring that occurs in a bag exactly when it holds `key` with a value of text `text`. */
export function bagNeedle(key: string, text: string): string {
  return ENTRY + escapeText(key) + UNIT + text + UNIT;
}

/** A list entry of the span's other attributes: key UNIT text (the kind is kept apart). */
export function listEntry(key: string, text: string): string {
  return escapeText(key) + UNIT + text;
}

/** The text a query value is compared with: numbers and booleans by their JS text form. */
export function queryText(v: string | number | boolean): string {
  return typeof v === 'string' ? escapeText(v) : String(v);
}
