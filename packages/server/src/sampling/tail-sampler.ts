/**
 * Tail sampling (`--keep`): decides per whole trace, once the chain checker has checked it (it waits
 * for the trace to go quiet), whether the trace stays in the store.
 *
 * - A trace a policy matches is kept: `error` (a span ended in error), `finding` (the checker found
 *   a broken hop), `slow` (a span slower than its operation's p99, from the RED metrics), `all`.
 * - Otherwise it is kept while the rate budget (`--keep-rate`, a token bucket) has room.
 * - Otherwise its drop waits for the flow window: when another trace of its business flow (linked
 *   through a queue hop, or handling the same entity; see flow-groups.ts) is kept meanwhile, it is
 *   kept too (reason `flow`). A trace checked again before then (late spans, a rule deadline) is
 *   judged again, and its drop waits for that re-check.
 * - Past the window it is dropped: its records and findings are deleted from the store.
 *
 * RED metrics are counted at ingest, before any of this: dropped traces still count in them. Every
 * decision and every deleted record is counted (status(), /metrics); nothing is dropped unseen.
 * Pending decisions are bounded (`maxPending`; the oldest is decided early, counted) and their
 * memory counts in the checker's share of `--max-memory`. Decisions still pending at shutdown are
 * not taken: those traces stay (the stop says how many).
 */
import type { Span } from '@linktrace/model';
import { rateLimitedSampler, type Sampler } from '@linktrace/sdk';
import type { DeletedRecords, Finding } from '@linktrace/storage';
import { flowKeys, FlowGroups, ownKey, rootOf, type FlowGroup } from './flow-groups.js';
import { describeSampling, KEEP_REASONS, type KeepPolicy, type KeepReason, type SamplingOptions } from './keep-options.js';

/** A trace the checker has just checked. */
export interface CheckedTrace {
  traceId: string;
  /** Its spans as checked (compact: status, entity attributes and links are there). */
  spans: readonly Span[];
  findings: readonly Finding[];
  /** When the checker will check it once more (a rule deadline not over yet), µs: no drop before. */
  recheckAtUs?: number;
}

export interface SamplingStore {
  deleteTraces(traceIds: readonly string[]): Promise<DeletedRecords>;
}

export interface TailSamplerDeps {
  store: SamplingStore;
  options: SamplingOptions;
  /** The `slow` policy's test: whether a span took longer than its operation's p99. */
  isSlow?: (span: Span) => boolean;
  /** The server clock, ms since the epoch (the rate budget refills by it). */
  clock: () => number;
  warn?: (line: string) => void;
}

export interface SamplingCounts {
  /** Traces kept, by reason. */
  kept: Record<KeepReason, number>;
  /** Traces dropped (no policy, over the rate budget, no kept trace in their flow within the window). */
  dropped: number;
  deletedSpans: number;
  deletedFindings: number;
  /** Drops decided before their window ended because `maxPending` decisions were waiting. */
  decidedEarly: number;
  /** Traces of a flow dropped before another trace of it was kept (the window was too short for them). */
  keptTooLate: number;
  /** Deletions that failed (retried with the next round). */
  deleteFailures: number;
  /** Dropped traces left in the store because too many deletions were waiting behind a failing store. */
  undeleted: number;
}

export interface SamplingStatus extends SamplingCounts {
  policy: string;
  policies: readonly KeepPolicy[];
  ratePerSecond: number;
  flowWindowMs: number;
  maxPending: number;
  pendingTraces: number;
  flowKeys: number;
  /** Flow keys let go early because too many were held. */
  flowKeysEvicted: number;
  waitingDeletes: number;
  heldBytes: number;
  lastError?: string;
}

interface PendingTrace {
  group: FlowGroup;
  offeredUs: number;
  /** Not dropped before this (the window's end, or later for a re-check). */
  dueUs: number;
}

/** Estimated heap bytes (memory budget): a pending decision, a flow key, a trace id waiting for deletion. */
const PENDING_TRACE_BYTES = 256;
const FLOW_KEY_BYTES = 224;
const DELETE_ID_BYTES = 96;
/** An item of the flow keys' expiry queue (the key string is shared with the table). */
const QUEUED_KEY_BYTES = 48;
/** Trace ids per `deleteTraces` call. */
const DELETE_CHUNK = 1000;
/**
 * Dropped trace ids waiting for deletion at most (more than a round drops: the list only grows
 * while the store fails), or `maxPending` when that is more.
 */
const MIN_WAITING_DELETES = 100_000;
/** Flow keys held per pending decision at most (the key table's bound). */
const KEYS_PER_PENDING = 2;

export class TailSampler {
  readonly options: SamplingOptions;
  private readonly pending = new Map<string, PendingTrace>();
  private readonly groups: FlowGroups;
  private readonly budget: Sampler;
  private readonly windowUs: number;
  private readonly keepsAll: boolean;
  private toDelete: string[] = [];
  private lastError: string | undefined;
  readonly counts: SamplingCounts;

  constructor(private readonly deps: TailSamplerDeps) {
    this.options = deps.options;
    this.windowUs = deps.options.flowWindowMs * 1000;
    this.keepsAll = deps.options.policies.includes('all');
    // Keys outlive a drop by one more window: a flow kept just after it dropped traces counts them (keptTooLate).
    this.groups = new FlowGroups(2 * this.windowUs, deps.options.maxPending * KEYS_PER_PENDING);
    // The SDK's token bucket (one home for it): full at start, `ratePerSecond` at most on average.
    this.budget = rateLimitedSampler({ tracesPerSecond: deps.options.ratePerSecond, now: deps.clock });
    const kept = Object.fromEntries(KEEP_REASONS.map((r) => [r, 0])) as Record<KeepReason, number>;
    this.counts = { kept, dropped: 0, deletedSpans: 0, deletedFindings: 0, decidedEarly: 0, keptTooLate: 0, deleteFailures: 0, undeleted: 0 };
  }

  /** Traces the checker has just checked (and stored the findings of): decided now, or pending. */
  offer(traces: readonly CheckedTrace[], nowUs: number): void {
    for (const t of traces) if (t.spans.length > 0) this.offerOne(t, nowUs);
  }

  private offerOne(t: CheckedTrace, nowUs: number): void {
    const id = t.traceId;
    const earlier = this.groups.decisionOf(id);
    // Every trace is kept with `all`: no flow to follow, only its id (so that a re-check counts once).
    const root = this.groups.join(this.keepsAll ? [ownKey(id)] : flowKeys(id, t.spans), nowUs);
    // Checked again after it was kept (late spans, a deadline): it stays kept, counted once.
    if (earlier === 'kept') return;
    const reason = this.policyReason(t);
    const waiting = this.pending.get(id);
    if (reason !== undefined) {
      this.keep(id, reason, root, nowUs);
    } else if (root.keptUntilUs > nowUs) {
      this.keep(id, 'flow', root, nowUs);
    } else if (waiting !== undefined) {
      // Judged again: still nothing keeps it; its drop waits for the re-check, if one comes.
      waiting.group = root;
      root.pending.add(id);
      if (t.recheckAtUs !== undefined) waiting.dueUs = Math.max(waiting.dueUs, t.recheckAtUs + 1);
    } else if (this.budget.shouldSample({ traceId: id, parent: undefined, name: '', kind: 'internal', attributes: undefined, baggage: undefined })) {
      this.keep(id, 'rate', root, nowUs);
    } else {
      // (A trace dropped before whose late spans arrived is a new, partial trace: decided again.)
      this.groups.note(id, undefined);
      this.pending.set(id, { group: root, offeredUs: nowUs, dueUs: Math.max(nowUs + this.windowUs, (t.recheckAtUs ?? 0) + 1) });
      root.pending.add(id);
      while (this.pending.size > this.options.maxPending) {
        const [oldest, p] = this.pending.entries().next().value as [string, PendingTrace];
        this.drop(oldest, p);
        this.counts.decidedEarly++;
      }
    }
  }

  /** The first policy that keeps the trace, cheapest test first. */
  private policyReason(t: CheckedTrace): KeepReason | undefined {
    const policies = this.options.policies;
    if (this.keepsAll) return 'all';
    if (policies.includes('error') && t.spans.some((s) => s.status?.code === 'error')) return 'error';
    if (policies.includes('finding') && t.findings.length > 0) return 'finding';
    const isSlow = this.deps.isSlow;
    if (isSlow !== undefined && policies.includes('slow') && t.spans.some(isSlow)) return 'slow';
    return undefined;
  }

  /** Keeps the trace and, for `keptFor` (a policy or the budget), every trace of its flow waiting. */
  private keep(id: string, reason: KeepReason, root: FlowGroup, nowUs: number): void {
    if (this.pending.delete(id)) root.pending.delete(id);
    this.counts.kept[reason]++;
    this.groups.note(id, 'kept');
    // A trace kept by its flow does not extend the flow's keep: a chain of traces touching one
    // record all day would otherwise all be kept because one was.
    if (reason === 'flow') return;
    root.keptUntilUs = Math.max(root.keptUntilUs, nowUs + this.windowUs);
    for (const other of root.pending) {
      this.pending.delete(other);
      this.counts.kept.flow++;
      this.groups.note(other, 'kept');
    }
    root.pending.clear();
    this.counts.keptTooLate += root.dropped;
    root.dropped = 0;
  }

  private drop(id: string, p: PendingTrace): void {
    this.pending.delete(id);
    const root = rootOf(p.group);
    root.pending.delete(id);
    root.dropped++;
    this.groups.note(id, 'dropped');
    this.counts.dropped++;
    this.toDelete.push(id);
    const most = Math.max(this.options.maxPending, MIN_WAITING_DELETES);
    if (this.toDelete.length > most) {
      // The store has been failing for a while: the oldest drops are given up (they stay stored), counted.
      const over = this.toDelete.length - most;
      this.toDelete = this.toDelete.slice(over);
      this.counts.undeleted += over;
    }
  }

  /**
   * Drops what is due (its window over, no kept trace in its flow) and deletes the dropped traces.
   * `isOpen` says whether the checker holds late spans of a trace, not checked yet: its drop waits
   * one more window for that check (which judges it again).
   */
  async flush(nowUs: number, isOpen?: (traceId: string) => boolean): Promise<void> {
    this.groups.expire(nowUs);
    for (const [id, p] of this.pending) {
      // In order of their first check: the later ones' windows are not over either.
      if (p.offeredUs + this.windowUs > nowUs) break;
      if (p.dueUs > nowUs) continue;
      if (isOpen?.(id) === true) p.dueUs = nowUs + this.windowUs;
      else this.drop(id, p);
    }
    while (this.toDelete.length > 0) {
      const chunk = this.toDelete.slice(0, DELETE_CHUNK);
      try {
        const removed = await this.deps.store.deleteTraces(chunk);
        this.counts.deletedSpans += removed.spans;
        this.counts.deletedFindings += removed.findings;
        this.lastError = undefined;
      } catch (error) {
        this.counts.deleteFailures++;
        this.lastError = `deleting dropped traces failed, retrying with the next round: ${(error as Error).message}`;
        this.deps.warn?.(`tail sampling: ${this.lastError}`);
        return;
      }
      this.toDelete = this.toDelete.slice(chunk.length);
    }
  }

  /** Estimated heap bytes held (counted in the checker's share of the memory budget). */
  heldBytes(): number {
    return this.pending.size * PENDING_TRACE_BYTES + this.groups.size * FLOW_KEY_BYTES + this.groups.queued * QUEUED_KEY_BYTES + this.toDelete.length * DELETE_ID_BYTES;
  }

  /** At shutdown: the decisions not taken (those traces stay in the store). */
  stop(): void {
    const left = this.pending.size + this.toDelete.length;
    if (left > 0) this.deps.warn?.(`tail sampling: ${left} traces whose drop was pending at shutdown are kept`);
  }

  status(): SamplingStatus {
    const o = this.options;
    const s: SamplingStatus = {
      policy: describeSampling(o),
      policies: o.policies,
      ratePerSecond: o.ratePerSecond,
      flowWindowMs: o.flowWindowMs,
      maxPending: o.maxPending,
      ...this.counts,
      kept: { ...this.counts.kept },
      pendingTraces: this.pending.size,
      flowKeys: this.groups.size,
      flowKeysEvicted: this.groups.evicted,
      waitingDeletes: this.toDelete.length,
      heldBytes: this.heldBytes(),
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }
}
