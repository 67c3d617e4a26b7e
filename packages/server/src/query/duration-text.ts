/**
 * Durations as people type them (`250us`, `10ms`, `1.5s`, `2m`, `1h30m`, `1d`) and as the CLI prints
 * them. A bare integer is microseconds, the unit every Linktrace API speaks.
 */

const UNIT_US: Readonly<Record<string, number>> = {
  ns: 0.001,
  us: 1,
  µs: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
};

const BARE_INTEGER = /^[0-9]{1,16}$/;
const PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h|d)/y;

/** Whole µs, or undefined when `text` is not a duration (negative, empty, unknown unit, too large). */
export function parseDurationUs(text: string): number | undefined {
  const t = text.trim();
  if (BARE_INTEGER.test(t)) {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (t.length === 0 || t.length > 64) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < t.length) {
    const at = PART.lastIndex;
    const m = PART.exec(t);
    if (m === null || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_US[m[2]!]!;
  }
  const us = Math.round(total);
  return Number.isSafeInteger(us) ? us : undefined;
}

/** `812µs`, `12.3ms`, `4.56s`, `2m05s`, `1h02m`: three significant figures below a minute. */
export function formatDurationUs(us: number): string {
  if (!Number.isFinite(us)) return '?';
  const a = Math.abs(us);
  const sign = us < 0 ? '-' : '';
  if (a < 1_000) return `${sign}${Math.round(a)}µs`;
  if (a < 1_000_000) return `${sign}${threeFigures(a / 1_000)}ms`;
  if (a < 60_000_000) return `${sign}${threeFigures(a / 1_000_000)}s`;
  const totalS = Math.round(a / 1_000_000);
  if (totalS < 3600) return `${sign}${Math.floor(totalS / 60)}m${pad2(totalS % 60)}s`;
  const totalM = Math.round(totalS / 60);
  return `${sign}${Math.floor(totalM / 60)}h${pad2(totalM % 60)}m`;
}

function threeFigures(v: number): string {
  if (v >= 100) return String(Math.round(v));
  if (v >= 10) return v.toFixed(1).replace(/\.0$/, '');
  return v.toFixed(2).replace(/\.?0+$/, '');
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
