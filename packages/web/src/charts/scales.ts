/** Axis ticks for the UI's charts: round values on the count/duration axis, round clock times on the time axis. */

/** Ticks from 0 up to a round top ≥ max (about `count` of them); a max of 0 still gives an axis. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

const MINUTE_US = 60_000_000;
const STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];

/** Times (µs) on whole minutes/hours/days in [startUs, endUs], about `count` of them. */
export function timeTicks(startUs: number, endUs: number, count = 6): number[] {
  const span = Math.max(endUs - startUs, MINUTE_US);
  const stepMin = STEPS_MIN.find((m) => (m * MINUTE_US * count) >= span) ?? STEPS_MIN[STEPS_MIN.length - 1]!;
  const stepUs = stepMin * MINUTE_US;
  // Round to the step in local time, so an hourly tick falls on the hour where the reader is.
  const offsetUs = new Date(startUs / 1000).getTimezoneOffset() * MINUTE_US;
  const first = Math.ceil((startUs - offsetUs) / stepUs) * stepUs + offsetUs;
  const ticks: number[] = [];
  for (let t = first; t <= endUs; t += stepUs) ticks.push(t);
  return ticks;
}

/** A time tick's label: `14:05`, or `05-01 14:05` when the axis spans more than a day. */
export function timeLabel(us: number, spanUs: number): string {
  const d = new Date(us / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return spanUs > 24 * 60 * MINUTE_US ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}` : clock;
}
