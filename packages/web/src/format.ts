/** Human text for times and durations (µs throughout, as the API speaks). */

export function formatDuration(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return '—';
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${trim(us / 1000)} ms`;
  if (us < 60_000_000) return `${trim(us / 1_000_000)} s`;
  const min = Math.floor(us / 60_000_000);
  return `${min} min ${Math.round((us - min * 60_000_000) / 1_000_000)} s`;
}

function trim(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Local date and time to the millisecond. */
export function formatTime(us: number): string {
  const d = new Date(us / 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatPercent(rate: number): string {
  if (rate === 0) return '0%';
  if (rate < 0.001) return '<0.1%';
  return `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;
}

/** Time range choices of the search, map and findings pages, as `lookback` URL values. */
export const LOOKBACKS: readonly { value: string; label: string; us: number }[] = [
  { value: '15m', label: 'Last 15 minutes', us: 15 * 60e6 },
  { value: '1h', label: 'Last hour', us: 3600e6 },
  { value: '6h', label: 'Last 6 hours', us: 6 * 3600e6 },
  { value: '24h', label: 'Last 24 hours', us: 24 * 3600e6 },
  { value: '7d', label: 'Last 7 days', us: 7 * 24 * 3600e6 },
];

/**
 * `start`/`end` for the API from the URL: explicit start/end (ISO or µs) win; else `lookback`;
 * else `fallback` (a lookback value, or 'all' for no bound).
 */
export function timeRange(params: URLSearchParams, fallback: string): { start?: string; end?: string } {
  const start = params.get('start') ?? undefined;
  const end = params.get('end') ?? undefined;
  if (start !== undefined || end !== undefined) return { start: toApiTime(start), end: toApiTime(end) };
  const lookback = params.get('lookback') ?? fallback;
  const choice = LOOKBACKS.find((l) => l.value === lookback);
  if (choice === undefined) return {};
  const nowUs = Date.now() * 1000;
  return { start: String(Math.floor(nowUs - choice.us)), end: String(nowUs) };
}

/** A `datetime-local` value (local time, no zone) becomes ISO with the zone; others pass as they are. */
function toApiTime(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d.toISOString();
  }
  return v;
}
