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

/** Remedies re-checked at once: each is two store reads, and a burst of results must not queue behind one another. */
const PARALLEL_CHECKS = 8;
/** Re-checks of a remedy whose trace is not complete yet back off from this to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 1000;

export class RemedyVerifier {
  /** Remedy id → when it is next worth a look, and the gap before that look (it doubles). */
  private readonly due = new Map<string, { atMs: number; gapMs: number }>();
  private readonly checking = new Set<string>();

  constructor(private readonly deps: VerifierDeps) {}

  /**
   * Re-checks the succeeded remedies: every one (`onlyDue` false, as tests and the once-a-second
   * round ask), or only those whose back-off has passed. A few at a time, never one twice at once.
   */
  async tick(onlyDue = false): Promise<void> {
    const now = this.deps.clock();
    const awaiting = this.deps.book.awaitingVerification();
    const ids = new Set(awaiting.map((r) => r.delivery.id));
    for (const id of this.due.keys()) if (!ids.has(id)) this.due.delete(id);
    const todo = awaiting.filter((r) => !this.checking.has(r.delivery.id) && (!onlyDue || (this.due.get(r.delivery.id)?.atMs ?? 0) <= now));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) await this.check(todo[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_CHECKS, todo.length) }, worker));
  }

  /**
   * Re-checks one remedy now (its result just came in): the trace is usually stored already, as the
   * agent flushes it before it reports. With as many checks under way as allowed, the next round
   * takes it (it is due), so a burst of results never means a burst of store reads.
   */
  async checkNow(id: string): Promise<void> {
    const r = this.deps.book.get(id);
    if (r === undefined || r.state !== 'succeeded' || this.checking.has(id) || this.checking.size >= PARALLEL_CHECKS) return;
    await this.check(r);
  }

  private async check(r: RemedyRecord): Promise<void> {
    const id = r.delivery.id;
    this.checking.add(id);
    try {
      if (!(await this.verify(r))) {
        const gapMs = Math.min(MAX_RETRY_MS, (this.due.get(id)?.gapMs ?? FIRST_RETRY_MS / 2) * 2);
        this.due.set(id, { atMs: this.deps.clock() + gapMs, gapMs });
      } else this.due.delete(id);
    } finally {
      this.checking.delete(id);
    }
  }

  /** One look at a remedy's trace; true when it gave a verdict. */
  private async verify(r: RemedyRecord): Promise<boolean> {
    const { book, store, checking, clock } = this.deps;
    const traceId = r.remedyTraceId;
    if (traceId === undefined) {
      book.verdict(r.delivery.id, false, 'the instance reported success without the remedy trace; nothing to re-check');
      return true;
    }
    const late = clock() - r.updatedAtMs > this.deps.verifyWithinMs;
    const spans = await store.getTrace(traceId);
    if (spans.length === 0 || (this.deps.checkNow === undefined && checking(traceId))) {
      if (late) book.verdict(r.delivery.id, false, spans.length === 0 ? `the remedy trace ${traceId} never arrived` : `the remedy trace ${traceId} was not checked in time`);
      return late;
    }
    const stored = await store.findFindings({ traceId });
    const findings = this.deps.checkNow === undefined ? stored : [...stored, ...this.deps.checkNow(spans)];
    // Findings can still go: a late span (a consumer slower than the deadline) re-checks the trace.
    if (findings.length > 0 && !late) return false;
    if (findings.length > 0) {
      const f = findings[0]!;
      book.verdict(r.delivery.id, false, `the remedy trace ${traceId} has ${findings.length} finding(s): ${f.rule} at ${f.service}: ${f.message}`);
      return true;
    }
    const evidence = evidenceOf(r, spans);
    if (evidence !== undefined) book.verdict(r.delivery.id, true, `re-checked: trace ${traceId} is complete (${evidence})`);
    else if (late) book.verdict(r.delivery.id, false, `the remedy trace ${traceId} does not show the missing step`);
    return evidence !== undefined || late;
  }
}
