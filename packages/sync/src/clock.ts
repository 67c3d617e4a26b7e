/** Milliseconds since the Unix epoch. Injected everywhere time decides something, so tests never sleep. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
