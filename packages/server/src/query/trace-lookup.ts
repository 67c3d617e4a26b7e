/**
 * Trace lookup by a 16- or 32-hex id. A 64-bit id may have been stored either way: as 16 hex (Zipkin
 * B3) or as 32 hex with sixteen leading zeros (OTLP carries 64-bit ids that way), so on a miss the
 * other spelling is tried.
 */
import type { Span } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';

const ZERO_HIGH = '0000000000000000';

/** The other spelling of a 64-bit id, or undefined when `id` is a genuine 128-bit id. */
export function alternateTraceId(id: string): string | undefined {
  if (id.length === 16) return ZERO_HIGH + id;
  if (id.length === 32 && id.startsWith(ZERO_HIGH)) return id.slice(16);
  return undefined;
}

export async function lookupTrace(store: SpanStore, id: string): Promise<Span[]> {
  const spans = await store.getTrace(id);
  if (spans.length > 0) return spans;
  const other = alternateTraceId(id);
  return other === undefined ? spans : store.getTrace(other);
}

/** Several traces in one store call (plus one for the misses that have another spelling); `[]` for unknown ids. */
export async function lookupTraces(store: SpanStore, ids: readonly string[]): Promise<Span[][]> {
  const traces = await store.getTraces(ids);
  const retry: number[] = [];
  const retryIds: string[] = [];
  ids.forEach((id, i) => {
    const other = traces[i]?.length === 0 ? alternateTraceId(id) : undefined;
    if (other !== undefined) {
      retry.push(i);
      retryIds.push(other);
    }
  });
  if (retryIds.length > 0) {
    const again = await store.getTraces(retryIds);
    retry.forEach((at, j) => (traces[at] = again[j] ?? []));
  }
  return traces;
}
