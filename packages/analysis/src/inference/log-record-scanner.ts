/**
 * A fast path for the common JSON line of inference's input format (docs/inference.md): a flat
 * object of the known fields, no whitespace, no escapes, times as plain integers. It reads the
 * line in one pass without JSON.parse's object (whose own strings and boxed times died young
 * anyway). Anything else — whitespace, escapes, fractions, exponents, unknown or repeated fields,
 * any value that `readLogRecord` would refuse — is left to JSON.parse and `readLogRecord`, so a
 * line gets the same record, or the same problem, either way.
 */
import { MAX_TEXT, intern, type LogRecord } from './log-record.js';

/**
 * Recent text values, direct-mapped by a hash of their length and a few of their characters: a
 * value already here is recognised in the line itself (`startsWith`), with no substring made and
 * no map lookup (the two cost more than the rest of the scan). Only values checked to hold no
 * escape or control character are kept, so a line whose value matches needs no check either.
 */
const RECENT_SLOTS = 1 << 12;
const recent: string[] = new Array<string>(RECENT_SLOTS).fill('');

function recentSlot(line: string, from: number, length: number): number {
  const last = from + length - 1;
  let h = Math.imul(length, 0x9e3779b1) ^ line.charCodeAt(from);
  h = Math.imul(h ^ line.charCodeAt(last), 0x85ebca6b);
  h = Math.imul(h ^ line.charCodeAt(last - 1), 0xc2b2ae35);
  h = Math.imul(h ^ line.charCodeAt(last - 2), 0x9e3779b1);
  h = Math.imul(h ^ line.charCodeAt(from + (length >> 1)), 0x85ebca6b);
  return (h ^ (h >>> 15)) & (RECENT_SLOTS - 1);
}

/** Whether `line` holds `known` at `from` (a loop: `startsWith` at an offset is slower here). */
function sameText(line: string, from: number, known: string): boolean {
  for (let i = known.length - 1; i >= 0; i--) if (line.charCodeAt(from + i) !== known.charCodeAt(i)) return false;
  return true;
}

/**
 * The text value between `from` and `from + length` (length > 0), or undefined when it holds an
 * escape or a control character (JSON.parse decodes or refuses those: the full parser decides).
 */
function textAt(line: string, from: number, length: number): string | undefined {
  const slot = recentSlot(line, from, length);
  const known = recent[slot]!;
  if (known.length === length && sameText(line, from, known)) return known;
  for (let i = from; i < from + length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c === 0x5c) return undefined;
  }
  // A fresh string, not a slice: V8 makes a slice of 13 or more characters a view that keeps its
  // parent — the reader's whole 64 KB chunk — alive as long as the value is held (JSON.parse copies).
  const v = intern(JSON.parse(`"${line.slice(from, from + length)}"`) as string);
  recent[slot] = v;
  return v;
}
/** Integers up to this are read exactly digit by digit (every partial value is below it too). */
const MAX_EXACT = 2 ** 53;
const MAX_TIME = 1e17;

// Field bits: each may appear once.
const DIRECTION = 1;
const SERVICE = 2;
const INSTANCE = 4;
const ENDPOINT = 8;
const START = 16;
const END = 32;
const REMOTE = 64;
const LOCAL = 128;
const PEER = 256;
const STATUS = 512;
const STRINGS = DIRECTION | SERVICE | INSTANCE | ENDPOINT | REMOTE | LOCAL | PEER;

/** The field named at `at` (just after its opening quote) with `length` characters, or 0 for any other. */
function fieldAt(line: string, at: number, length: number): number {
  switch (length) {
    case 3:
      return line.startsWith('end', at) ? END : 0;
    case 4:
      return line.startsWith('peer', at) ? PEER : 0;
    case 5:
      return line.startsWith('start', at) ? START : line.startsWith('local', at) ? LOCAL : 0;
    case 6:
      return line.startsWith('remote', at) ? REMOTE : line.startsWith('status', at) ? STATUS : 0;
    case 7:
      return line.startsWith('service', at) ? SERVICE : 0;
    case 8:
      return line.startsWith('instance', at) ? INSTANCE : line.startsWith('endpoint', at) ? ENDPOINT : 0;
    case 9:
      return line.startsWith('direction', at) ? DIRECTION : 0;
    default:
      return 0;
  }
}

/**
 * The record of a plain JSON line (`line` set to 0, as `readLogRecord` does), or undefined when the
 * line is not of that plain shape or not a usable record: then parse it in full.
 */
export function scanLogRecord(line: string): LogRecord | undefined {
  const n = line.length;
  if (n < 2 || line.charCodeAt(0) !== 0x7b /* { */ || line.charCodeAt(n - 1) !== 0x7d /* } */) return undefined;
  let seen = 0;
  let isIn = false;
  let service = '';
  let instance = '';
  let endpoint = '';
  let remote: string | undefined;
  let local: string | undefined;
  let peer: string | undefined;
  let startUs = 0;
  let endUs = 0;
  let status = 0;
  let at = 1;
  for (;;) {
    // "key":
    if (line.charCodeAt(at) !== 0x22) return undefined;
    const keyEnd = line.indexOf('"', at + 1);
    if (keyEnd < 0 || line.charCodeAt(keyEnd + 1) !== 0x3a /* : */) return undefined;
    const field = fieldAt(line, at + 1, keyEnd - at - 1);
    if (field === 0 || (seen & field) !== 0) return undefined;
    seen |= field;
    at = keyEnd + 2;
    const c = line.charCodeAt(at);
    if (c === 0x22) {
      // A string. It ends at the next quote unless that quote is escaped, and then the value has a
      // backslash, which textAt refuses.
      if ((field & STRINGS) === 0) return undefined;
      const end = line.indexOf('"', at + 1);
      if (end < 0) return undefined;
      const length = end - at - 1;
      if (length > MAX_TEXT) return undefined;
      if (field === DIRECTION) {
        if (length === 2 && line.startsWith('in', at + 1)) isIn = true;
        else if (length !== 3 || !line.startsWith('out', at + 1)) return undefined;
        at = end + 1;
      } else {
        const v = length === 0 ? '' : textAt(line, at + 1, length);
        if (v === undefined) return undefined;
        switch (field) {
          case SERVICE:
            if (length === 0) return undefined;
            service = v;
            break;
          case INSTANCE:
            if (length === 0) return undefined;
            instance = v;
            break;
          case ENDPOINT:
            endpoint = v;
            break;
          case REMOTE:
            if (length > 0) remote = v;
            break;
          case LOCAL:
            if (length > 0) local = v;
            break;
          default:
            if (length > 0) peer = v;
        }
        at = end + 1;
      }
    } else if (c >= 0x30 && c <= 0x39) {
      // A non-negative integer without leading zeros, exact in a double; fractions and exponents take the full parser.
      if ((field & STRINGS) !== 0) return undefined;
      if (c === 0x30 && line.charCodeAt(at + 1) >= 0x30 && line.charCodeAt(at + 1) <= 0x39) return undefined;
      let v = 0;
      let d = c;
      do {
        v = v * 10 + (d - 0x30);
        d = line.charCodeAt(++at);
      } while (d >= 0x30 && d <= 0x39);
      if (v > MAX_EXACT) return undefined;
      if (field === START) startUs = v;
      else if (field === END) endUs = v;
      else status = v;
    } else return undefined;
    const next = line.charCodeAt(at);
    if (next === 0x2c /* , */) at++;
    else if (next === 0x7d /* } */ && at === n - 1) break;
    else return undefined;
  }
  if ((seen & (DIRECTION | SERVICE | INSTANCE | START | END)) !== (DIRECTION | SERVICE | INSTANCE | START | END)) return undefined;
  if (startUs > MAX_TIME || endUs > MAX_TIME || endUs < startUs) return undefined;
  // The same shape, field for field, as readLogRecord makes.
  const record: LogRecord = { line: 0, direction: isIn ? 'in' : 'out', service, instance, endpoint, startUs, endUs, remote: undefined, local: undefined, peer: undefined, status: undefined };
  if (remote !== undefined) record.remote = remote;
  if (local !== undefined) record.local = local;
  if (peer !== undefined) record.peer = peer;
  if ((seen & STATUS) !== 0) record.status = status;
  return record;
}
