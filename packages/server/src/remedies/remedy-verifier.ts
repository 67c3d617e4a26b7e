/**
 * The re-check of a remedy that ran: once its own trace is stored and the chain checker has checked
 * it, the trace must have no finding and must hold what the broken chain missed (the write or skip
 * of the entity for `missing-write`, a consumer for `not-consumed`, the remedy's own span ended
 * without error otherwise). Then the remedy is `verified`; if its trace still has findings, never
 * arrives, or never shows the step within `verifyWithinMs`, it is `failed` with the reason.
 */
import { ATTR, REMEDY_ATTR, type Finding, type Span } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import type { RemedyBook, RemedyRecord } from './remedy-book.js';

export interface VerifierDeps {
  book: RemedyBook;
  store: Pick<SpanStore, 'getTrace' | 'findFindings'>;
  /** True while the checker still waits to check the trace (its quiet delay). */
  checking: (traceId: string) => boolean;
  /**
   * The checker's rules on a trace now (ChainChecker.checkSpans): the re-check runs them as soon as
   * the remedy trace shows the step, instead of waiting for the checker's quiet delay. Absent: the
   * stored findings after the checker's own check.
   */
  checkNow?: (spans: readonly Span[]) => Finding[];
  verifyWithinMs: number;
  clock: () => number;
}

/** What in the remedy's trace shows the chain is complete now, or undefined. */
export function evidenceOf(r: RemedyRecord, spans: readonly Span[]): string | undefined {
  const d = r.delivery;
  const own = spans.find((s) => s.attributes[REMEDY_ATTR.id] === d.id);
  if (own === undefined) return undefined;
  if (own.status.code === 'error') return undefined;
  const sameEntity = (s: Span): boolean => d.entity === undefined || s.attributes[ATTR.entityKey] === d.entity.key;
  if (d.rule === 'missing-write') {
    const w = spans.find((s) => (s.attributes[ATTR.stage] === 'write' || s.attributes[ATTR.stage] === 'skip') && sameEntity(s));
    return w === undefined ? undefined : `${String(w.attributes[ATTR.stage])} ${w.name} (span ${w.spanId})`;
  }
  if (d.rule === 'not-consumed') {
    const c = spans.find((s) => s.kind === 'consumer' || s.attributes[ATTR.stage] === 'dequeue' || s.attributes[ATTR.stage] === 'consume');
    return c === undefined ? undefined : `consumed by ${c.service} ${c.name} (span ${c.spanId})`;
  }
  return `${own.name} ended without error (span ${own.spanId})`;
}

export class RemedyVerifier {
  constructor(private readonly deps: VerifierDeps) {}

  async tick(): Promise<void> {
    const { book, store, checking, clock } = this.deps;
    for (const r of book.awaitingVerification()) {
      const traceId = r.remedyTraceId;
      if (traceId === undefined) {
        book.verdict(r.delivery.id, false, 'the instance reported success without the remedy trace; nothing to re-check');
        continue;
      }
      const late = clock() - r.updatedAtMs > this.deps.verifyWithinMs;
      const spans = await store.getTrace(traceId);
      if (spans.length === 0 || (this.deps.checkNow === undefined && checking(traceId))) {
        if (late) book.verdict(r.delivery.id, false, spans.length === 0 ? `the remedy trace ${traceId} never arrived` : `the remedy trace ${traceId} was not checked in time`);
        continue;
      }
      const stored = await store.findFindings({ traceId });
      const findings = this.deps.checkNow === undefined ? stored : [...stored, ...this.deps.checkNow(spans)];
      // Findings can still go: a late span (a consumer slower than the deadline) re-checks the trace.
      if (findings.length > 0 && !late) continue;
      if (findings.length > 0) {
        const f = findings[0]!;
        book.verdict(r.delivery.id, false, `the remedy trace ${traceId} has ${findings.length} finding(s): ${f.rule} at ${f.service}: ${f.message}`);
        continue;
      }
      const evidence = evidenceOf(r, spans);
      if (evidence !== undefined) book.verdict(r.delivery.id, true, `re-checked: trace ${traceId} is complete (${evidence})`);
      else if (late) book.verdict(r.delivery.id, false, `the remedy trace ${traceId} does not show the missing step`);
    }
  }
}
