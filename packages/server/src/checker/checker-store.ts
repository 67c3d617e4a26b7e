/** What the chain checker needs of a span store; every `SpanStore` of @linktrace/storage has it. */
import type { SpanStore } from '@linktrace/storage';

export type CheckerStore = Pick<SpanStore, 'getTraces' | 'findTraces' | 'replaceFindings' | 'findFindings'>;

export function isCheckerStore(store: object): store is CheckerStore {
  const s = store as Partial<Record<keyof CheckerStore, unknown>>;
  return (
    typeof s.getTraces === 'function' &&
    typeof s.findTraces === 'function' &&
    typeof s.replaceFindings === 'function' &&
    typeof s.findFindings === 'function'
  );
}
