/** What the stage API ignored instead of throwing into user code (per `Stages` object). */
export interface StageCounters {
  /** An entity that was not an object, or had a missing or mistyped type, key or version. */
  invalidEntities: number;
  /** A write/enqueue target that is missing or not a string, or a string that is not `scheme:name` (kept as given). */
  invalidTargets: number;
  /** A skip without a non-empty string reason. */
  invalidSkipReasons: number;
  /** Anything else: an unknown stage name, no span to mark, a callback or options of the wrong type, a carrier that could not be read. */
  invalidCalls: number;
}

export function newStageCounters(): StageCounters {
  return { invalidEntities: 0, invalidTargets: 0, invalidSkipReasons: 0, invalidCalls: 0 };
}
