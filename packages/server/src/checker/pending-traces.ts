/**
 * Trace ids with a span starting in [fromUs, toUs], newest first, at most `max`: what a restarted
 * checker re-opens. The store answers pages of newest traces; each next page ends where the last
 * began, until a page is short, brings nothing new, or `max` is reached.
 */
import type { CheckerStore } from './checker-store.js';

export async function pendingTraceIds(store: CheckerStore, fromUs: number, toUs: number, max: number, pageSize = 1000): Promise<string[]> {
  const ids = new Set<string>();
  let endUs = toUs;
  const pages = Math.ceil(max / pageSize) + 1;
  for (let page = 0; page < pages && ids.size < max && endUs >= fromUs; page++) {
    const found = await store.findTraces({ startUs: fromUs, endUs, limit: pageSize });
    const before = ids.size;
    let oldestUs = endUs;
    for (const t of found) {
      if (ids.size >= max) break;
      ids.add(t.traceId);
      if (t.startUs < oldestUs) oldestUs = t.startUs;
    }
    if (found.length < pageSize || ids.size === before) break;
    // Traces starting at `oldestUs` may continue past the page: the next page starts there again.
    const next = Math.max(fromUs, oldestUs);
    if (next >= endUs) break;
    endUs = next;
  }
  return [...ids];
}
