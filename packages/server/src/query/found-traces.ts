/**
 * The step every trace search route shares: ask the store, fetch the traces it found, encode each
 * in the route's format and, when the store's answer must be checked here, keep the ones that meet
 * the check, up to `limit`. A check makes the store asked for more candidates (`candidateLimit`).
 */
import type { Span } from '@linktrace/model';
import { MAX_TRACE_LIMIT, type SpanStore, type TraceQuery } from '@linktrace/storage';

/** When traces are checked after the store, it is asked for this many times `limit`… */
const OVERFETCH = 4;
/** …but not for more than this many (unless `limit` itself is larger). */
const MAX_OVERFETCH = 1_000;

/** How many candidates to ask the store for when `limit` traces must survive a check here. */
export function candidateLimit(limit: number): number {
  return Math.min(MAX_TRACE_LIMIT, Math.max(limit, Math.min(MAX_OVERFETCH, limit * OVERFETCH)));
}

export async function foundTraces<T>(
  store: SpanStore,
  query: TraceQuery,
  limit: number,
  encode: (spans: Span[]) => T,
  meets?: (trace: T) => boolean,
): Promise<T[]> {
  const found = await store.findTraces(query);
  const traces = await store.getTraces(found.map((t) => t.traceId));
  const out: T[] = [];
  for (const spans of traces) {
    if (spans.length === 0) continue;
    const encoded = encode(spans);
    if (meets !== undefined && !meets(encoded)) continue;
    out.push(encoded);
    if (out.length === limit) break;
  }
  return out;
}
