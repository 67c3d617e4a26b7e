import type { ReconcileResult } from './reconcile-attributes.js';
import type { RecordState } from './record-state.js';

/** Compares every field both sides have; a side without a record is `missing` (target) or `unknown` (source). */
export function compareStates(source: RecordState | undefined, target: RecordState | undefined): ReconcileResult {
  if (source === undefined) return 'unknown';
  if (target === undefined) return 'missing';
  let compared = false;
  if (source.version !== undefined && target.version !== undefined) {
    if (source.version !== target.version) return 'mismatch';
    compared = true;
  }
  if (source.hash !== undefined && target.hash !== undefined) {
    if (source.hash !== target.hash) return 'mismatch';
    compared = true;
  }
  return compared ? 'match' : 'unknown';
}
