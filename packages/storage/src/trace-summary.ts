/** Builds a search hit's summary from the merged records of one trace (shared by backends). */
import type { TraceSummary } from './types.js';

export interface SummaryRecord {
  spanId: string;
  kind: string;
  service: string;
  name: string;
  hasParent: boolean;
  startUs: number;
  durationUs?: number | undefined;
  /** Start not reported: left out of the trace's start and end. */
  startUnknown?: boolean | undefined;
  error: boolean;
}

/** `records` must be merged already (see record-merge.ts) and non-empty. `findingCount` is 0: the caller sets it. */
export function summarizeTrace(traceId: string, records: readonly SummaryRecord[]): TraceSummary {
  let start = Infinity;
  let end = -Infinity;
  let errors = 0;
  let root: SummaryRecord | undefined;
  const services = new Set<string>();
  for (const r of records) {
    if (r.startUnknown !== true) {
      if (r.startUs < start) start = r.startUs;
      const e = r.startUs + (r.durationUs ?? 0);
      if (e > end) end = e;
    }
    if (r.error) errors++;
    services.add(r.service);
    if (!r.hasParent && (root === undefined || r.startUs < root.startUs)) root = r;
  }
  if (start === Infinity) start = end = 0;
  const summary: TraceSummary = {
    traceId,
    startUs: start,
    durationUs: end - start,
    spanCount: records.length,
    errorCount: errors,
    services: [...services].sort(),
    findingCount: 0,
  };
  if (root !== undefined) summary.root = { service: root.service, name: root.name };
  return summary;
}
