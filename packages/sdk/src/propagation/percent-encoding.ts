/**
 * Percent-encoding of W3C Baggage values (RFC 3986 §2.1 over UTF-8). Decoding follows the baggage
 * spec: byte sequences that are not valid UTF-8 become U+FFFD; a `%` not followed by two hex digits
 * is kept as a literal `%` (it is a legal baggage-octet).
 */

/** `baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E` */
const BAGGAGE_OCTET = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) BAGGAGE_OCTET[c] = 1;
for (const c of [0x22, 0x2c, 0x3b, 0x5c]) BAGGAGE_OCTET[c] = 0;

const PERCENT = 0x25;
const HEX_UPPER = '0123456789ABCDEF';

export function isBaggageOctet(c: number): boolean {
  return c < 128 && BAGGAGE_OCTET[c] === 1;
}

/** True when every character of `s` is a baggage-octet (the empty string included). */
export function isBaggageValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isBaggageOctet(s.charCodeAt(i))) return false;
  return true;
}

/** Encodes every character that is not a baggage-octet, and `%` itself. Lone surrogates become U+FFFD. */
export function encodeBaggageValue(value: string): string {
  let i = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === PERCENT || !isBaggageOctet(c)) break;
  }
  if (i === value.length) return value;
  const bytes = Buffer.from(value, 'utf8');
  let out = value.slice(0, i);
  // The prefix is ASCII, so it occupies exactly its own length in bytes.
  for (let b = i; b < bytes.length; b++) {
    const c = bytes[b]!;
    out += c !== PERCENT && isBaggageOctet(c) ? String.fromCharCode(c) : `%${HEX_UPPER[c >> 4]!}${HEX_UPPER[c & 15]!}`;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Decodes `%XX` sequences (either case) as UTF-8. The input is expected to be ASCII (a checked baggage value). */
export function decodeBaggageValue(value: string): string {
  if (!value.includes('%')) return value;
  const bytes = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === PERCENT && i + 2 < value.length) {
      const hi = hexValue(value.charCodeAt(i + 1));
      const lo = hexValue(value.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    bytes[n++] = c & 0xff;
  }
  return bytes.toString('utf8', 0, n);
}
