/**
 * The flood step of `bench:abuse`: `runFlood` of ./flood.ts (the flood of long-lived traces, written
 * on the i11-budget branch). Until that branch is merged this module carries a type-only copy of its
 * interface and loads it at run time, so the build does not depend on a file that is not here yet;
 * without it, the flood is reported as not run. Once ./flood.ts is on this branch, this file can
 * become `export { runFlood, type FloodOptions, type FloodResult } from './flood.js';` plus
 * `runFloodStep = runFlood`.
 */

/** As ./flood.ts's FloodOptions. */
export interface FloodOptions {
  url: string;
  durationMs: number;
  maxSpans: number;
  traces?: number;
  spansPerRequest?: number;
  tracesPerRequest?: number;
  concurrency?: number;
  fillerBytes?: number;
  sampleEveryMs?: number;
}

/** As ./flood.ts's FloodResult. */
export interface FloodResult {
  durationS: number;
  acceptedSpans: number;
  refusedSpans: number;
  failedRequests: number;
  searches: number;
  searchP50Ms: number;
  searchP99Ms: number;
  searchMaxMs: number;
  peakRssMb: number;
  peakCheckerOpenSpans: number;
  peakEventLoopLagMs: number;
  health: Record<string, number>;
}

type RunFlood = (options: FloodOptions) => Promise<FloodResult>;

/** Runs the flood, or resolves undefined when ./flood.js is not built on this branch. */
export async function runFloodStep(options: FloodOptions): Promise<FloodResult | undefined> {
  // A computed specifier: the compiler does not resolve it, so a missing flood.ts does not break the build.
  const specifier = './flood.js';
  let runFlood: RunFlood;
  try {
    ({ runFlood } = (await import(specifier)) as { runFlood: RunFlood });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  return runFlood(options);
}
