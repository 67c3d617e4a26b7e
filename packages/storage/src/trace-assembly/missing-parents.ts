/**
 * Spans whose parent is not in the trace (lost, not yet arrived, or sampled out upstream). They are
 * reported, not hidden: a UI lays them out as extra roots under a "missing parent" marker.
 */
import type { Span } from '@linktrace/model';

export interface OrphanReport {
  /** Spans naming a parent id that no span of the trace has, in input order. */
  orphans: Span[];
  /** The absent parent ids, each once, in order of first mention. */
  missingParentIds: string[];
}

export function findOrphans(spans: readonly Span[]): OrphanReport {
  const ids = new Set<string>();
  for (const s of spans) ids.add(s.spanId);
  const orphans: Span[] = [];
  const missing = new Set<string>();
  for (const s of spans) {
    if (s.parentSpanId === undefined || ids.has(s.parentSpanId)) continue;
    orphans.push(s);
    missing.add(s.parentSpanId);
  }
  return { orphans, missingParentIds: [...missing] };
}
