/**
 * Turning query rows into results, shared by the backends that run the embedded store's SQL (the
 * embedded store and the block store).
 */
import type { Span } from '@linktrace/model';
import type { TraceSummary } from '../types.js';
import { findingCountsSql } from './findings-table.js';
import type { Statement } from './query-sql.js';
import { KIND_CODE } from './span-row-encoder.js';
import { unescapeText } from './text-codec.js';

/** Ids per query when asking about many traces (each becomes one term of an `IN (…)`). */
export const TRACE_IDS_PER_QUERY = 200;

/** A search hit from its `trace_summaries` row (SUMMARY_ROW_SQL); `findingCount` is set later. */
export function summaryFromRow(r: readonly unknown[]): TraceSummary {
  const summary: TraceSummary = {
    traceId: r[0] as string,
    startUs: r[1] as number,
    durationUs: r[2] as number,
    spanCount: r[3] as number,
    errorCount: r[4] as number,
    services: (r[5] as string[]).map(unescapeText).sort(),
    findingCount: 0,
  };
  if (r[6] !== null) summary.root = { service: unescapeText(r[6] as string), name: unescapeText(r[7] as string) };
  return summary;
}

/** The order of a trace's spans in answers: start, span id, then the server half of a shared id first. */
export function sortSpans(spans: Span[]): Span[] {
  return spans.sort(
    (a, b) =>
      a.startUs - b.startUs ||
      (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0) ||
      KIND_CODE[b.kind] - KIND_CODE[a.kind],
  );
}

/** Search hits newest first (ties: larger trace id first). */
export function sortSummaries(out: TraceSummary[]): TraceSummary[] {
  return out.sort((a, b) => b.startUs - a.startUs || (a.traceId < b.traceId ? 1 : a.traceId > b.traceId ? -1 : 0));
}

/** Sets `findingCount` on each summary (one query per chunk of traces), running SQL with `run`. */
export async function countFindings(summaries: TraceSummary[], run: (s: Statement) => Promise<unknown[][]>): Promise<void> {
  if (summaries.length === 0) return;
  const keyOf = (id: string): string => id.padStart(32, '0');
  const counts = new Map<string, number>();
  for (let i = 0; i < summaries.length; i += TRACE_IDS_PER_QUERY) {
    const rows = await run(findingCountsSql(summaries.slice(i, i + TRACE_IDS_PER_QUERY).map((s) => keyOf(s.traceId))));
    for (const r of rows) counts.set(r[0] as string, r[1] as number);
  }
  for (const s of summaries) s.findingCount = counts.get(keyOf(s.traceId)) ?? 0;
}
