/**
 * Findings as the query API answers them: each with its id (what `POST /api/v1/findings/{id}/remedy`
 * and `linktrace remedy` take) and, when one was asked for, where its latest remedy stands.
 */
import { findingId, type Finding } from '@linktrace/model';
import type { RemedyBook } from './remedy-book.js';

export interface FindingRemedySummary {
  id: string;
  action: string;
  state: string;
  remedyTraceId?: string;
  reason?: string;
}

export type FindingView = Finding & { id: string; remedy?: FindingRemedySummary };

export function findingViews(findings: readonly Finding[], book: RemedyBook | undefined): FindingView[] {
  return findings.map((f) => {
    const id = findingId(f);
    const r = book?.ofFinding(id);
    if (r === undefined) return { ...f, id };
    const remedy: FindingRemedySummary = { id: r.delivery.id, action: r.delivery.action, state: r.state };
    if (r.remedyTraceId !== undefined) remedy.remedyTraceId = r.remedyTraceId;
    if (r.reason !== undefined) remedy.reason = r.reason;
    return { ...f, id, remedy };
  });
}
