/** Misuse and limit counters: what the SDK ignored or cut instead of throwing into user code. */
export interface SdkCounters {
  spansStarted: number;
  spansUnsampled: number;
  endedTwice: number;
  changesAfterEnd: number;
  invalidAttributes: number;
  attributesDropped: number;
  attributesTruncated: number;
  eventsDropped: number;
  linksDropped: number;
  /** Exceptions of samplers, processors, propagators or exporters caught instead of reaching user code. */
  guardedErrors: number;
}

export function newCounters(): SdkCounters {
  return {
    spansStarted: 0,
    spansUnsampled: 0,
    endedTwice: 0,
    changesAfterEnd: 0,
    invalidAttributes: 0,
    attributesDropped: 0,
    attributesTruncated: 0,
    eventsDropped: 0,
    linksDropped: 0,
    guardedErrors: 0,
  };
}
