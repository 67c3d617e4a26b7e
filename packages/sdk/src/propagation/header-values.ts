/**
 * Reading header values that a getter returns. Getters may hand back a string, a string[] (repeated
 * headers) or, from a careless carrier, anything at all: these helpers accept `unknown` and never throw.
 */

const SP = 32;
const HTAB = 9;

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Strips RFC 7230 optional whitespace (space and tab only; `trim()` would also eat other characters). */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** The value of a header that must appear once: a repeated header (array of 2+) is invalid. */
export function singleValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return undefined;
}

/**
 * The first value of a header whose repeats are ignored (B3: "the first value wins"). Node joins
 * repeated unknown headers with `, `, so a string is cut at its first comma.
 */
export function firstValue(v: unknown): string | undefined {
  let s: unknown = v;
  if (Array.isArray(v)) s = v.length > 0 ? v[0] : undefined;
  if (typeof s !== 'string') return undefined;
  const comma = s.indexOf(',');
  return comma < 0 ? s : s.slice(0, comma);
}

/**
 * A list header combined from its repeats (RFC 7230 §3.2.2: joined with commas). Undefined when
 * absent, or when the combined value is longer than `max` characters and `truncate` is false; with
 * `truncate`, the value is cut at the last comma within `max`, so no list member is read in part.
 */
export function combinedValue(v: unknown, max: number, truncate: boolean): string | undefined {
  let joined: string;
  if (typeof v === 'string') {
    joined = v;
  } else if (Array.isArray(v)) {
    joined = '';
    for (let i = 0; i < v.length; i++) {
      const part: unknown = v[i];
      if (typeof part !== 'string') continue;
      joined = joined.length === 0 ? part : `${joined},${part}`;
      if (joined.length > max) break;
    }
  } else {
    return undefined;
  }
  if (joined.length <= max) return joined;
  if (!truncate) return undefined;
  const cut = joined.lastIndexOf(',', max);
  return cut < 0 ? '' : joined.slice(0, cut);
}
