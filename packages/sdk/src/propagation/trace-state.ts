/**
 * The W3C `tracestate` list (Trace Context Level 1, §3.3): grammar checks and parsing of the combined
 * header value. Parsing scans index ranges of the input, so that a list already in normal form
 * (no whitespace, no empty members) is passed on without being cut up and joined again.
 */

/** A list holds at most 32 members (empty members do not count). */
export const TRACESTATE_MAX_MEMBERS = 32;
/**
 * Longest combined value read. A full valid list is at most 32 × 513 + 31 characters plus optional
 * whitespace; anything longer than this is discarded unread.
 */
export const TRACESTATE_MAX_LENGTH = 32_768;

const SPACE = 32;
const HTAB = 9;
const COMMA = 44;
const EQUALS = 61;
const TILDE = 126;

/** keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" */
const KEY_CHAR = new Uint8Array(128);
for (let c = 97; c <= 122; c++) KEY_CHAR[c] = 1;
for (let c = 48; c <= 57; c++) KEY_CHAR[c] = 1;
for (const ch of '_-*/@') KEY_CHAR[ch.charCodeAt(0)] = 1;

/** Longest key: one leading character and up to 255 more. */
const KEY_MAX_LENGTH = 256;

/**
 * `key = (lcalpha / DIGIT) 0*255(keychar)` (Trace Context Level 1 as published now: the earlier
 * `tenant@system` split with its 241/14 limits is gone, so `@` may sit anywhere after the first
 * character, any number of times).
 */
function isKeyRange(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len <= 0 || len > KEY_MAX_LENGTH) return false;
  const first = s.charCodeAt(start);
  if (!((first >= 97 && first <= 122) || (first >= 48 && first <= 57))) return false;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || KEY_CHAR[c] !== 1) return false;
  }
  return true;
}

/** `value = 0*255(chr) nblk-chr`: 1 to 256 printable ASCII characters except `,` and `=`, not ending in a space. */
function isValueRange(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len <= 0 || len > 256 || s.charCodeAt(end - 1) === SPACE) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < SPACE || c > TILDE || c === COMMA || c === EQUALS) return false;
  }
  return true;
}

export function isValidTraceStateKey(key: string): boolean {
  return isKeyRange(key, 0, key.length);
}

export function isValidTraceStateValue(value: string): boolean {
  return isValueRange(value, 0, value.length);
}

/** The members of the last scan: keys, and [start, end) of each member in the scanned string. */
const scanKeys: string[] = new Array<string>(TRACESTATE_MAX_MEMBERS).fill('');
const scanStarts: number[] = new Array<number>(TRACESTATE_MAX_MEMBERS).fill(0);
const scanEnds: number[] = new Array<number>(TRACESTATE_MAX_MEMBERS).fill(0);
let scanCount = 0;

function indexOfKey(key: string): number {
  for (let i = 0; i < scanCount; i++) if (scanKeys[i] === key) return i;
  return -1;
}

/**
 * Validates a combined value, leaving its members in the scan arrays. A later member whose key came
 * before is left out (the spec lets a vendor drop duplicates it did not write; the first one is
 * kept, as the first is the most recent position). False when the list is invalid as a whole — a
 * malformed member, more than 32 members (duplicates count: they are list members), or too long —
 * as the spec's test suite expects such a header to be discarded entirely. The work is bounded by
 * TRACESTATE_MAX_LENGTH and stops at the 33rd member. Synchronous, so the shared arrays are safe.
 */
function scan(value: string): boolean {
  scanCount = 0;
  if (value.length > TRACESTATE_MAX_LENGTH) return false;
  let members = 0;
  let pos = 0;
  while (pos <= value.length) {
    let end = value.indexOf(',', pos);
    if (end < 0) end = value.length;
    let start = pos;
    pos = end + 1;
    while (start < end && (value.charCodeAt(start) === SPACE || value.charCodeAt(start) === HTAB)) start++;
    while (end > start && (value.charCodeAt(end - 1) === SPACE || value.charCodeAt(end - 1) === HTAB)) end--;
    if (start === end) continue;
    const eq = value.indexOf('=', start);
    if (eq < 0 || eq >= end) return false;
    if (!isKeyRange(value, start, eq) || !isValueRange(value, eq + 1, end)) return false;
    if (++members > TRACESTATE_MAX_MEMBERS) return false;
    const key = value.slice(start, eq);
    if (indexOfKey(key) >= 0) continue;
    scanKeys[scanCount] = key;
    scanStarts[scanCount] = start;
    scanEnds[scanCount] = end;
    scanCount++;
  }
  return true;
}

/**
 * Members `0..count-1` of the last scan of `value` except `skip`, joined by commas. When they sit in
 * `value` separated by single commas already, that stretch of `value` is returned as it is.
 */
function joinMembers(value: string, count: number, skip: number): string {
  let first = -1;
  let last = -1;
  let contiguous = true;
  for (let i = 0; i < count; i++) {
    if (i === skip) continue;
    if (first < 0) first = i;
    else if (i !== last + 1 || scanStarts[i] !== scanEnds[last]! + 1) contiguous = false;
    last = i;
  }
  if (first < 0) return '';
  if (contiguous) return value.slice(scanStarts[first], scanEnds[last]);
  let out = '';
  for (let i = first; i <= last; i++) {
    if (i === skip) continue;
    const member = value.slice(scanStarts[i], scanEnds[i]);
    out = out.length === 0 ? member : `${out},${member}`;
  }
  return out;
}

/**
 * Parses a combined `tracestate` value. Returns its members as `key=value` strings, in order, with
 * optional whitespace, empty members and repeated keys removed; undefined when the list is invalid
 * as a whole.
 */
export function parseTraceState(value: string): string[] | undefined {
  if (!scan(value)) return undefined;
  const out: string[] = [];
  for (let i = 0; i < scanCount; i++) out.push(value.slice(scanStarts[i], scanEnds[i]));
  return out;
}

/** A valid list split into one member (by key) and the others. */
export interface TraceStateSplit {
  /** The value of the member with the key asked for, when present. */
  value: string | undefined;
  /** The other members in normal form (comma-separated, no whitespace); '' when none. */
  rest: string;
  /** The first `limit` of the other members, in the same form. */
  restLimited: string;
}

/**
 * Splits a combined `tracestate` value into the member with key `key` and the others; undefined when
 * the list is invalid. `limit` caps `restLimited` (room for a member the caller will add left-most).
 */
export function splitTraceState(value: string, key: string, limit: number): TraceStateSplit | undefined {
  if (!scan(value)) return undefined;
  const n = scanCount;
  const at = indexOfKey(key);
  const found = at < 0 ? undefined : value.slice(scanStarts[at]! + key.length + 1, scanEnds[at]);
  const rest = joinMembers(value, n, at);
  let restLimited = rest;
  if ((at < 0 ? n : n - 1) > limit) {
    // Keep the first `limit` other members: the right-most go, as the spec has it when a list is full.
    let upto = 0;
    for (let kept = 0; kept < limit; upto++) if (upto !== at) kept++;
    restLimited = joinMembers(value, upto, at);
  }
  return { value: found, rest, restLimited };
}
