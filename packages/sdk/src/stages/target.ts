/**
 * Targets are `scheme:name` (DESIGN §3): the scheme tells the chain checker whether a downstream
 * receive is expected (`http`, `rpc`, `grpc`, `mq`) or not (stores).
 */

/** True for an RFC 3986 scheme (a letter, then letters, digits, `+`, `-`, `.`), a colon and a non-empty name. */
export function isSchemeName(target: string): boolean {
  const colon = target.indexOf(':');
  if (colon < 1 || colon === target.length - 1) return false;
  if (!isLetter(target.charCodeAt(0))) return false;
  for (let i = 1; i < colon; i++) {
    const c = target.charCodeAt(i);
    if (!isLetter(c) && !(c >= 48 && c <= 57) && c !== 43 && c !== 45 && c !== 46) return false;
  }
  return true;
}

/**
 * The recorded form of a valid target: the scheme in lowercase (schemes are case-insensitive, and the
 * checker compares them against lowercase lists), the name as given. Allocates only if the scheme
 * has an uppercase letter.
 */
export function normalizeTarget(target: string): string {
  const colon = target.indexOf(':');
  for (let i = 0; i < colon; i++) {
    const c = target.charCodeAt(i);
    if (c >= 65 && c <= 90) return target.slice(0, colon).toLowerCase() + target.slice(colon);
  }
  return target;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
