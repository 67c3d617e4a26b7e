/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): either delay-seconds or an HTTP date.
 * Returns milliseconds from `nowMs` (never negative), or undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only date forms contain letters; this also rejects "-5", "1.5" and other non-conforming numbers.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
