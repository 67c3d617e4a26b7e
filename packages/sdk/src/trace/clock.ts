/** Wall-clock µs since the epoch with sub-ms resolution, monotonic within the process. */
const origin = performance.timeOrigin;

export function nowUs(): number {
  return Math.floor((origin + performance.now()) * 1000);
}

/** The same clock from a `performance.now()` reading taken by the caller. */
export function usFromPerf(perfNow: number): number {
  return Math.floor((origin + perfNow) * 1000);
}

/** The `performance.now()` reading (ms) of a time from this clock: a span's start without a second reading. */
export function perfFromUs(us: number): number {
  return us / 1000 - origin;
}
