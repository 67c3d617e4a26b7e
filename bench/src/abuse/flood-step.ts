/**
 * The flood step of `bench:abuse`: the flood of long-lived traces of ./flood.ts (also run alone by
 * flood-run.ts), under the name the bench calls it by.
 */
import { runFlood, type FloodOptions, type FloodResult } from './flood.js';

export type { FloodOptions, FloodResult };

/** Runs the flood (always runs: the result is never undefined since flood.ts is part of the bench). */
export async function runFloodStep(options: FloodOptions): Promise<FloodResult | undefined> {
  return runFlood(options);
}
