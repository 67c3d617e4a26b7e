/**
 * The store as one checker sees it: reading back a trace of a partition it does not own answers
 * nothing. Start-up re-opens the traces that arrived since the checkpoint (pending-traces.ts) from
 * the shared store; without this view every checker would re-open, and check, every partition's.
 */
import type { SpanStore } from '@linktrace/storage';
import type { CheckerStore } from '../checker/checker-store.js';

export function ownedTracesStore(store: SpanStore, owns: (traceId: string) => boolean): CheckerStore {
  return {
    async getTraces(traceIds) {
      const mine = traceIds.filter(owns);
      const read = mine.length === 0 ? [] : await store.getTraces(mine);
      const byId = new Map(mine.map((id, k) => [id, read[k] ?? []]));
      return traceIds.map((id) => byId.get(id) ?? []);
    },
    findTraces: (query) => store.findTraces(query),
    replaceFindings: (traceIds, findings) => store.replaceFindings(traceIds, findings),
    findFindings: (filter) => store.findFindings(filter),
  };
}
