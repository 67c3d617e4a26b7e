export { canonicalJson, hashRecord } from './canonical-json.js';
export { RECONCILE_ATTR, type ReconcileResult } from './reconcile-attributes.js';
export type { ReadResult, RecordState } from './record-state.js';
export {
  createReconciler,
  Reconciler,
  RECONCILE_SCOPE,
  type EntityReaders,
  type ReconcileEntity,
  type ReconcilerCounters,
  type ReconcilerOptions,
} from './reconciler.js';
