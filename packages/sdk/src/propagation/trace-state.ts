/**
 * The W3C `tracestate` list (Trace Context Level 1, §3.3): grammar checks, parsing of the combined
 * header value, and the list Linktrace sends on (its own `lt` member first).
 */
import { trimOws } from './header-values.js';

/** A list holds at most 32 members (empty members do not count). */
export const TRACESTATE_MAX_MEMBERS = 32;
/**
 * Longest combined value read. A full valid list is at most 32 × 513 + 31 characters plus optional
 * whitespace; anything longer than this is discarded unread.
 */
export const TRACESTATE_MAX_LENGTH = 32_768;

const LOWER_A = 97;
const LOWER_Z = 122;
const ZERO = 48;
const NINE = 57;
const SPACE = 32;
const COMMA = 44;
const EQUALS = 61;
const TILDE = 126;

function isLcAlpha(c: number): boolean {
  return c >= LOWER_A && c <= LOWER_Z;
}
function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}
/** lcalpha / DIGIT / "_" / "-" / "*" / "/" */
function isKeyChar(c: number): boolean {
  return isLcAlpha(c) || isDigit(c) || c === 95 || c === 45 || c === 42 || c === 47;
}

function keyCharsFrom(key: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
  return true;
}

/**
 * `simple-key = lcalpha 0*255(keychar)` or `multi-tenant-key = tenant-id "@" system-id` with
 * `tenant-id = (lcalpha / DIGIT) 0*240(keychar)` and `system-id = lcalpha 0*13(keychar)`.
 */
export function isValidTraceStateKey(key: string): boolean {
  const len = key.length;
  if (len === 0) return false;
  const at = key.indexOf('@');
  if (at < 0) return len <= 256 && isLcAlpha(key.charCodeAt(0)) && keyCharsFrom(key, 1, len);
  const first = key.charCodeAt(0);
  const systemLen = len - at - 1;
  return (
    at >= 1 &&
    at <= 241 &&
    systemLen >= 1 &&
    systemLen <= 14 &&
    (isLcAlpha(first) || isDigit(first)) &&
    keyCharsFrom(key, 1, at) &&
    isLcAlpha(key.charCodeAt(at + 1)) &&
    keyCharsFrom(key, at + 2, len)
  );
}

/** `value = 0*255(chr) nblk-chr`: 1 to 256 printable ASCII characters except `,` and `=`, not ending in a space. */
export function isValidTraceStateValue(value: string): boolean {
  const len = value.length;
  if (len === 0 || len > 256 || value.charCodeAt(len - 1) === SPACE) return false;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c < SPACE || c > TILDE || c === COMMA || c === EQUALS) return false;
  }
  return true;
}

/** The key of a normalized `key=value` member. */
export function memberKey(member: string): string {
  return member.slice(0, member.indexOf('='));
}

/**
 * Parses a combined `tracestate` value. Returns its members as `key=value` strings, in order, with
 * optional whitespace and empty members removed; undefined when the list is invalid as a whole (a
 * malformed member, a duplicate key, more than 32 members, or too long): the spec's test suite
 * expects such a header to be discarded entirely.
 */
export function parseTraceState(value: string): string[] | undefined {
  if (value.length > TRACESTATE_MAX_LENGTH) return undefined;
  const members: string[] = [];
  const keys: string[] = [];
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    const member = trimOws(value.slice(start, end));
    start = end + 1;
    if (member.length === 0) continue;
    const eq = member.indexOf('=');
    if (eq < 0) return undefined;
    const key = member.slice(0, eq);
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(member.slice(eq + 1))) return undefined;
    if (keys.length === TRACESTATE_MAX_MEMBERS || keys.includes(key)) return undefined;
    keys.push(key);
    members.push(member);
  }
  return members;
}
