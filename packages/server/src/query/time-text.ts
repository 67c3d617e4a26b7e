/**
 * Points in time as the native API and the CLI accept them: µs since the epoch as an integer, or an
 * ISO 8601 date/time. ISO text keeps µs precision (JavaScript dates stop at ms); a time without a
 * zone is taken as UTC so that the same text means the same instant on every machine.
 */

const INTEGER = /^-?[0-9]{1,17}$/;
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** µs since the epoch, or undefined when `text` is neither an integer nor a valid ISO time. */
export function parseTimeUs(text: string): number | undefined {
  const t = text.trim();
  if (INTEGER.test(t)) {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const m = ISO.exec(t);
  if (m === null) return undefined;
  const [, date, hm, sec, frac, zone] = m;
  if (hm === undefined && zone !== undefined) return undefined;
  const base = `${date}T${hm ?? '00:00'}:${sec ?? '00'}${normalizeZone(zone)}`;
  const ms = Date.parse(base);
  if (Number.isNaN(ms) || !isCalendarDate(date!)) return undefined;
  const fracUs = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1_000_000 + 1e-6);
  const us = ms * 1000 + fracUs;
  return Number.isSafeInteger(us) ? us : undefined;
}

function normalizeZone(zone: string | undefined): string {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 'Z';
  return zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
}

/** Date.parse rolls `2024-02-30` over to March; such a date is refused instead. */
function isCalendarDate(date: string): boolean {
  const ms = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(date);
}

/** ISO 8601 UTC with ms, e.g. `2024-05-01T12:00:00.123Z`, for display. */
export function formatTimeUs(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return Number.isNaN(d.getTime()) ? String(us) : d.toISOString();
}
