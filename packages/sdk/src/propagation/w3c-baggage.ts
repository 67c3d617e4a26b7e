/**
 * W3C Baggage: the `baggage` header, a list of `key=value;properties` members with percent-encoded
 * values. Members are checked one by one: a malformed member is skipped, the rest are kept.
 */
import type { Baggage, BaggageEntry, Propagated, Propagator, TextMapGetter, TextMapSetter } from '../types.js';
import { combinedValue, trimOws } from './header-values.js';
import { decodeBaggageValue, encodeBaggageValue, isBaggageValue } from './percent-encoding.js';

export const BAGGAGE_HEADER = 'baggage';
/** Most members read or written: the `baggage-string` grammar allows 180. */
export const BAGGAGE_MAX_MEMBERS = 180;
/** Most bytes of members and commas read or written, all `baggage` headers combined. */
export const BAGGAGE_MAX_BYTES = 8192;
/** Longest combined header read; the rest is ignored (cut at a comma, so no member is read in part). */
export const BAGGAGE_MAX_READ = 32_768;

/** RFC 7230 `tchar`: the characters of a `token`. */
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

/** A baggage key is an RFC 7230 token: non-empty, ASCII letters, digits and ``!#$%&'*+-.^_`|~``. */
export function isBaggageKey(key: string): boolean {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** `property *( OWS ";" OWS property )` with `property = key OWS "=" OWS value / key OWS`. */
export function isValidBaggageProperties(properties: string): boolean {
  let start = 0;
  while (start <= properties.length) {
    let end = properties.indexOf(';', start);
    if (end < 0) end = properties.length;
    const property = properties.slice(start, end);
    start = end + 1;
    const eq = property.indexOf('=');
    if (eq < 0) {
      if (!isBaggageKey(trimOws(property))) return false;
    } else if (!isBaggageKey(trimOws(property.slice(0, eq))) || !isBaggageValue(trimOws(property.slice(eq + 1)))) {
      return false;
    }
  }
  return true;
}

interface Member {
  key: string;
  entry: BaggageEntry;
}

/** One trimmed list member, or undefined when it does not follow the grammar. */
function parseMember(member: string): Member | undefined {
  const semi = member.indexOf(';');
  const pair = semi < 0 ? member : member.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq < 0) return undefined;
  const key = trimOws(pair.slice(0, eq));
  const raw = trimOws(pair.slice(eq + 1));
  if (!isBaggageKey(key) || !isBaggageValue(raw)) return undefined;
  if (semi < 0) return { key, entry: { value: decodeBaggageValue(raw) } };
  const metadata = trimOws(member.slice(semi + 1));
  if (!isValidBaggageProperties(metadata)) return undefined;
  return { key, entry: { value: decodeBaggageValue(raw), metadata } };
}

/**
 * Parses a combined `baggage` value. Malformed members are skipped; a member is kept only while the
 * kept members (as written, commas included) stay within 180 members and 8192 bytes. A repeated key
 * keeps its first position and its last value.
 */
export function parseBaggage(value: string): Map<string, BaggageEntry> {
  const out = new Map<string, BaggageEntry>();
  let count = 0;
  let bytes = 0;
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    const text = trimOws(value.slice(start, end));
    start = end + 1;
    if (text.length === 0) continue;
    const member = parseMember(text);
    if (member === undefined) continue;
    const size = text.length + (count > 0 ? 1 : 0);
    if (count === BAGGAGE_MAX_MEMBERS || bytes + size > BAGGAGE_MAX_BYTES) continue;
    count++;
    bytes += size;
    out.set(member.key, member.entry);
  }
  return out;
}

/**
 * The `baggage` value for a map. Entries whose key is not a token are left out; metadata that does
 * not follow the property grammar is left out (the entry is kept). An entry that would take the
 * header past 180 members or 8192 bytes is left out whole.
 */
export function formatBaggage(baggage: Baggage): string {
  let out = '';
  let count = 0;
  for (const [key, entry] of baggage) {
    if (count === BAGGAGE_MAX_MEMBERS) break;
    if (typeof key !== 'string' || !isBaggageKey(key) || typeof entry?.value !== 'string') continue;
    let member = `${key}=${encodeBaggageValue(entry.value)}`;
    if (typeof entry.metadata === 'string') {
      const metadata = trimOws(entry.metadata);
      if (metadata.length > 0 && isValidBaggageProperties(metadata)) member += `;${metadata}`;
    }
    const size = member.length + (count > 0 ? 1 : 0);
    if (out.length + size > BAGGAGE_MAX_BYTES) continue;
    out = count === 0 ? member : `${out},${member}`;
    count++;
  }
  return out;
}

/** The W3C Baggage propagator. Extracted baggage replaces `base.baggage` when at least one member is valid. */
export function w3cBaggagePropagator(): Propagator {
  const fields: readonly string[] = Object.freeze([BAGGAGE_HEADER]);
  // Baggage maps are immutable by convention and one map is usually sent on many outgoing calls.
  let cachedMap: Baggage | undefined;
  let cachedHeader = '';

  return {
    inject<C>(value: Propagated, carrier: C, setter: TextMapSetter<C>): void {
      try {
        const baggage = value.baggage;
        if (baggage === undefined || baggage === null) return;
        if (baggage !== cachedMap) {
          cachedHeader = formatBaggage(baggage);
          cachedMap = baggage;
        }
        if (cachedHeader.length > 0) setter.set(carrier, BAGGAGE_HEADER, cachedHeader);
      } catch {
        // Injection never throws.
      }
    },

    extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated {
      try {
        const combined = combinedValue(getter.get(carrier, BAGGAGE_HEADER), BAGGAGE_MAX_READ, true);
        if (combined === undefined || combined.length === 0) return base;
        const baggage = parseBaggage(combined);
        return baggage.size === 0 ? base : { ...base, baggage };
      } catch {
        return base;
      }
    },

    fields(): readonly string[] {
      return fields;
    },
  };
}
