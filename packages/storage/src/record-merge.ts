/**
 * Start records (DESIGN §3: a span reported when it begins, then again in full when it ends) are
 * merged on read: one span per (span id, kind, service), the full record winning over a start
 * record. Kind is part of the key because Zipkin's shared client/server halves share a span id and
 * are two spans; service guards against two tracers reusing an id. Among several full records the
 * last one given wins (a re-sent batch is identical anyway).
 */

export interface MergeableRecord {
  spanId: string;
  kind: string;
  service: string;
  durationUs?: number | undefined;
}

export function recordKey(r: MergeableRecord): string {
  return `${r.spanId}\n${r.kind}\n${r.service}`;
}

/** `records` merged, in the order each span was first seen. */
export function mergeRecords<T extends MergeableRecord>(records: readonly T[]): T[] {
  const index = new Map<string, number>();
  const out: T[] = [];
  for (const r of records) {
    const key = recordKey(r);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(r);
    } else if (r.durationUs !== undefined || out[at]!.durationUs === undefined) {
      out[at] = r;
    }
  }
  return out;
}
