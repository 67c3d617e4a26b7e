/**
 * Attribute names of reconcile spans. The analysis package reads the same names (it depends on the
 * model only, so it spells them again); change both together.
 */
export const RECONCILE_ATTR = {
  result: 'linktrace.reconcile.result',
  sourceVersion: 'linktrace.reconcile.source.version',
  targetVersion: 'linktrace.reconcile.target.version',
  sourceHash: 'linktrace.reconcile.source.hash',
  targetHash: 'linktrace.reconcile.target.hash',
  delayMs: 'linktrace.reconcile.delay_ms',
} as const;

/**
 * - `match`: every field both sides have (version, hash) is equal.
 * - `mismatch`: a version or hash differs.
 * - `missing`: the source has the record, the target does not.
 * - `unknown`: nothing to compare (the source has no record any more, the two sides share no field,
 *   or a reader failed; a failure also sets the span status to error).
 */
export type ReconcileResult = 'match' | 'mismatch' | 'missing' | 'unknown';
