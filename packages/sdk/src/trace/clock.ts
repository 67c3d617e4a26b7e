/** Wall-clock µs since the epoch with sub-ms resolution, monotonic within the process. */
const origin = performance.timeOrigin;

export function nowUs(): number {
  return Math.floor((origin + performance.now()) * 1000);
}
