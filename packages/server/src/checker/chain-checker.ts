/**
 * The streaming chain checker (DESIGN §4). Spans reach it once they are durable in the store (the
 * pipeline calls `spansStored`; never on the request path) and are held in compact form (what the
 * rules read). A timer takes the traces that are due (quiet for the check delay, or open for the
 * maximum wait), runs the built-in rules and the flow contracts on the spans it holds, stores the
 * findings and hands the new ones to the alerts.
 *
 * The store is read only when it may hold spans of a trace the checker does not: late spans of a
 * trace already checked and let go, a trace the buffer refused or cut (see `SpilledTraces`). A
 * trace checked before its deadlines passed keeps its spans until it is checked once more when they
 * have; late spans arriving meanwhile are checked together with them, without a store read. Late
 * spans of a checked trace open it again: its findings are re-computed and stored over the old ones.
 * A restart loses nothing pending: the checkpoint file holds the first arrival of the oldest trace
 * not yet evaluated, and start-up re-opens every trace with spans from then on (less a margin of
 * the maximum wait, for spans that arrive long after they started).
 */
import { join } from 'node:path';
import type { SdkDropReport, Span } from '@linktrace/model';
import type { Finding } from '@linktrace/storage';
import { MAX_FINDING_LIMIT, mergeRecords } from '@linktrace/storage';
import { annotateSdkDrops, checkTrace, compactSpan, HOST_CROSSING_RULES, TraceBuffer, type CheckOptions, type TakenTrace } from '@linktrace/analysis';
import { pinFindings } from './pin-findings.js';
import type { AlertDispatcher } from '../alerts/alert-dispatcher.js';
import type { MemoryBudget } from '../memory-budget.js';
import type { CheckerObserver } from './checker-metrics.js';
import type { ResolvedCheckerOptions } from './checker-options.js';
import type { CheckerStore } from './checker-store.js';
import { CheckpointFile } from './checkpoint-file.js';
import { FlowRegistry } from './flow-registry.js';
import { PendingArrivals } from './pending-arrivals.js';
import { pendingTraceIds } from './pending-traces.js';
import { RecheckQueue, type Recheck } from './recheck-queue.js';
import { SpilledTraces } from './spilled-traces.js';
import type { TailSampler } from '../sampling/tail-sampler.js';

export interface ChainCheckerDeps {
  store: CheckerStore;
  options: ResolvedCheckerOptions;
  /** The checker keeps its checkpoint and API-declared flows in `<dataDir>/checker/`. */
  dataDir: string;
  alerts?: AlertDispatcher;
  observer?: CheckerObserver;
  warn?: (line: string) => void;
  /** Instances whose SDK reported lost spans: a missing hop next to one is noted as possibly dropped by it. */
  sdkDrops?: () => readonly SdkDropReport[];
  /**
   * The server clock, ms since the epoch (default `Date.now`): when a trace is due, and the "now" its
   * rule deadlines are judged against. Tests pass a manual clock and drive rounds with `checkNow`.
   */
  clock?: () => number;
  /**
   * The server's memory budget: the checker's held spans count in it, and while its share is full
   * the checker holds no more spans and checks the traces from the store instead.
   */
  memory?: MemoryBudget;
  /** Tail sampling (`--keep`): each checked trace is offered to it, and it drops what is due after each round. */
  sampler?: TailSampler;
  /**
   * Told after each round which traces were checked and their findings stored, with the arrival
   * number (see `spansStored`) the round started at: every span handed in up to that number for
   * those traces was in the check. The checker role acknowledges its JetStream messages by it.
   */
  onChecked?: (traceIds: readonly string[], upToArrival: number) => void;
}

export interface CheckerStatus {
  openTraces: number;
  openSpans: number;
  droppedTraces: number;
  droppedSpans: number;
  pendingRechecks: number;
  droppedRechecks: number;
  checkedTraces: number;
  findings: number;
  /** Traces re-opened from the store at start-up. */
  restored: number;
  /** Traces read back from the store to be checked (the rest are checked from the spans held). */
  readBack: number;
  /** Estimated heap bytes the checker holds (spans, traces, re-checks, ids), counted in the memory budget. */
  heldBytes: number;
  /** Spans not held because the memory budget was full: their traces are checked from the store. */
  unheldSpans: number;
  lastError?: string;
}

/** Traces read from the store in one query (and checked in one part). */
const TRACES_PER_READ = 200;
/**
 * Held spans checked in one part: between parts the round yields to the event loop, so that a round
 * of long traces (5 000 traces of hundreds of spans at their maximum wait) does not hold up requests
 * (queries, health probes) for seconds.
 */
const SPANS_PER_PART = 20_000;
/** A trace read back counts as this many spans in a part: at most 50 of them are read and checked at once. */
const READ_BACK_SPANS = 400;
/** Most traces checked in one timer round; the rest wait for the next round. */
const TRACES_PER_ROUND = 5000;
/** The checkpoint is rewritten when it moved by this much (µs), and on close. */
const CHECKPOINT_STEP_US = 1_000_000;
/**
 * Estimated heap bytes of what the checker holds, for the memory budget: a compact span (measured
 * 160-270 bytes on the fixtures and 350 with three attributes, its strings pooled; rounded up), an
 * open trace (its entry, map slot, arrival record and id) and a waiting re-check.
 */
const HELD_SPAN_BYTES = 384;
const OPEN_TRACE_BYTES = 320;
const RECHECK_BYTES = 160;

/** One part of a round, checked: its findings (all, and by trace) and the re-checks it needs. */
interface Evaluated {
  part: Due[];
  byTrace: Finding[][];
  all: Finding[];
  later: Recheck[];
}

interface Due {
  traceId: string;
  firstUs: number;
  /** Compact spans held for the trace (put back when the check fails); the store's when read back. */
  spans: Span[];
  /** The store may hold spans of it that are not held: read the trace back. */
  fromStore: boolean;
  recheck: boolean;
  /** The store may hold findings of it from an earlier check (only then are they looked up). */
  checkedBefore: boolean;
}

/** End of the part of `due` starting at `from`: at most TRACES_PER_READ traces and SPANS_PER_PART held spans (one trace at least). */
function partEnd(due: readonly Due[], from: number): number {
  let spans = weight(due[from]!);
  let end = from + 1;
  while (end < due.length && end - from < TRACES_PER_READ && spans + weight(due[end]!) <= SPANS_PER_PART) spans += weight(due[end++]!);
  return end;
}

/** Spans a part's trace is counted for: those held, or (read back, size unknown) a long trace's. */
function weight(d: Due): number {
  return d.fromStore ? READ_BACK_SPANS : d.spans.length;
}

export class ChainChecker {
  readonly flows: FlowRegistry;
  private readonly buffer: TraceBuffer;
  private readonly pending = new PendingArrivals();
  private readonly spilled = new SpilledTraces();
  private readonly rechecks: RecheckQueue;
  /** Traces re-opened at start-up, until taken: the previous run may have stored findings of them. */
  private readonly restoredIds = new Set<string>();
  private readonly checkpoint: CheckpointFile;
  private readonly store: CheckerStore;
  private readonly options: ResolvedCheckerOptions;
  private readonly warn: (line: string) => void;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private clockUs = 0;
  private savedUs = -Infinity;
  private saving = false;
  private checkedTraces = 0;
  private findingCount = 0;
  private restored = 0;
  private readBack = 0;
  private unheldSpans = 0;
  /** Calls of `spansStored` so far (their arrival numbers). */
  private arrivals = 0;
  private lastError: string | undefined;

  constructor(private readonly deps: ChainCheckerDeps) {
    const { options } = deps;
    this.options = options;
    this.store = deps.store;
    this.warn = deps.warn ?? (() => {});
    this.clock = deps.clock ?? Date.now;
    this.buffer = new TraceBuffer({
      checkDelayMs: options.checkDelayMs,
      maxWaitMs: options.maxWaitMs,
      maxOpenTraces: options.maxOpenTraces,
      maxSpansPerTrace: options.maxSpansPerTrace,
      onRefuse: (traceId) => this.refused(traceId),
    });
    this.rechecks = new RecheckQueue(options.maxOpenTraces);
    const dir = join(deps.dataDir, 'checker');
    this.checkpoint = new CheckpointFile(dir);
    this.flows = new FlowRegistry(options.flows, options.flowHistory, dir, options.maxFlows);
    deps.memory?.measure({ checker: () => this.heldBytes() });
  }

  /**
   * The built-in rules on one trace now, nothing stored (flow contracts left out: a remedy's trace is
   * a part of a flow): the remedies' re-check of a remedy trace. Rules with a deadline (a consumer,
   * an unfinished span) report only once it has passed.
   */
  checkSpans(spans: readonly Span[]): Finding[] {
    if (spans.length === 0) return [];
    return pinFindings(checkTrace(spans, this.ruleOptions(), this.nowUs()) as Finding[], spans);
  }

  /** The built-in rules' options (no flow contracts): deadline, slow-chain objective, rules a host-local checker leaves out. */
  private ruleOptions(): CheckOptions {
    const check: CheckOptions = { deadlineMs: this.options.deadlineMs };
    if (this.options.slowChainMs !== undefined) check.slowChainObjectiveMs = this.options.slowChainMs;
    if (this.options.hostLocal) check.skipRules = HOST_CROSSING_RULES;
    return check;
  }

  /** True while the trace waits for its check (spans arrived, quiet delay not over): its findings are not final yet. */
  holds(traceId: string): boolean {
    return this.buffer.has(traceId);
  }

  /** Estimated heap bytes held: open traces and their spans, waiting re-checks and theirs, spilled ids. */
  heldBytes(): number {
    const b = this.buffer.stats();
    return (
      (b.openSpans + this.rechecks.heldSpans) * HELD_SPAN_BYTES +
      b.openTraces * OPEN_TRACE_BYTES +
      this.rechecks.size * RECHECK_BYTES +
      this.spilled.bytes +
      (this.deps.sampler?.heldBytes() ?? 0)
    );
  }

  /** Whether the memory budget lets the checker hold `spans` more spans. */
  private mayHold(spans: number): boolean {
    return this.deps.memory === undefined || this.deps.memory.checkerMayHold(spans * HELD_SPAN_BYTES);
  }

  /** The server clock in µs, never going back (the buffer requires it). */
  private nowUs(): number {
    const t = Math.floor(this.clock() * 1000);
    if (t > this.clockUs) this.clockUs = t;
    return this.clockUs;
  }

  /**
   * The full buffer refused spans of a trace: the store has them, so the trace is checked from the
   * store after the check delay (bounded like every re-check; what does not fit is counted).
   */
  private refused(traceId: string): void {
    this.spilled.add(traceId);
    const now = this.clockUs;
    const quietUs = now + this.options.checkDelayMs * 1000;
    // Waiting for a re-check (with the spans it was checked with, or none): the store has more now,
    // and the check waits for the trace to be quiet, bounded by the maximum wait.
    const waiting = this.rechecks.readBackWhenDue(traceId, quietUs);
    // Open in the buffer: read back whole when the buffer finds it due (quiet, or at its maximum wait).
    if (waiting || this.buffer.has(traceId)) return;
    if (this.rechecks.add({ atUs: quietUs, traceId, firstUs: now, spans: [] })) this.pending.add(now);
  }

  /**
   * Spans now durable in the store. Cheap: grouping only; the check runs on the timer. Returns the
   * arrival number of the call (compared with `onChecked`'s).
   */
  spansStored(spans: readonly Span[]): number {
    const arrival = ++this.arrivals;
    if (this.stopped || spans.length === 0) return arrival;
    const now = this.nowUs();
    if (!this.mayHold(spans.length)) {
      this.checkFromStore(spans);
      return arrival;
    }
    const before = this.buffer.stats().openTraces;
    this.buffer.add(spans, now);
    this.pending.add(now, this.buffer.stats().openTraces - before);
    return arrival;
  }

  /**
   * The memory budget is full: the spans are not held. Each of their traces is checked from the
   * store after the check delay, like a trace the full buffer refused (one open in the buffer is
   * read back whole when it is due).
   */
  private checkFromStore(spans: readonly Span[]): void {
    this.unheldSpans += spans.length;
    let last = '';
    for (const s of spans) {
      const id = s.traceId;
      if (typeof id !== 'string' || id.length === 0 || id === last) continue;
      last = id;
      this.refused(id);
    }
  }

  /**
   * Reads the checkpoint, re-opens the traces the previous run had not evaluated, and starts the
   * timer. Spans stored meanwhile are taken as usual.
   */
  start(): Promise<void> {
    this.starting ??= this.restore().then(
      () => this.startTimer(),
      (error: unknown) => {
        this.lastError = `restoring pending traces failed: ${(error as Error).message}`;
        this.warn(`chain checker: ${this.lastError}`);
        this.startTimer();
      },
    );
    return this.starting;
  }

  private startTimer(): void {
    if (this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
    this.timer.unref();
  }

  private async restore(): Promise<void> {
    const cp = await this.checkpoint.read(this.warn);
    const now = this.nowUs();
    const maxWaitUs = this.options.maxWaitMs * 1000;
    // No checkpoint: a new data directory, or one from before the checker. Look back one maximum wait.
    const sinceUs = cp?.pendingSinceUs ?? now - maxWaitUs;
    const ids = await pendingTraceIds(this.store, sinceUs - maxWaitUs, now + maxWaitUs, this.options.maxOpenTraces);
    for (let i = 0; i < ids.length && !this.stopped; i += TRACES_PER_READ) {
      const traces = await this.store.getTraces(ids.slice(i, i + TRACES_PER_READ));
      for (const spans of traces) {
        if (spans.length === 0) continue;
        this.restoredIds.add(spans[0]!.traceId);
        this.spansStored(spans);
        this.restored++;
      }
    }
    await this.saveCheckpoint(true);
  }

  private tick(): void {
    if (this.round !== undefined || this.stopped) return;
    this.round = this.runRound()
      .catch((error: unknown) => {
        this.lastError = (error as Error).message;
        this.warn(`chain checker: ${this.lastError}`);
      })
      .finally(() => {
        this.round = undefined;
      });
  }

  /** Checks what is due now, in reads of TRACES_PER_READ traces, up to TRACES_PER_ROUND. */
  private async runRound(): Promise<void> {
    const now = this.nowUs();
    // Spans handed in from here on may miss this round's checks (taken before they came).
    const upToArrival = this.arrivals;
    const due: Due[] = [];
    for (const traceId of this.buffer.due(now)) {
      if (due.length >= TRACES_PER_ROUND) break;
      const t = this.buffer.take(traceId);
      if (t !== undefined) due.push(this.dueOf(t, this.rechecks.take(traceId)));
    }
    for (const r of this.rechecks.takeDue(now, TRACES_PER_ROUND - due.length)) {
      // Spans of it kept arriving: not quiet yet (a trace the checker does not hold waits like one it holds).
      const waitedUs = r.firstUs + this.options.maxWaitMs * 1000;
      if (r.quietUs !== undefined && r.quietUs > now && waitedUs > now && this.rechecks.add({ ...r, atUs: Math.min(r.quietUs, waitedUs) })) continue;
      // Late spans of it still waiting in the buffer are checked with it now.
      const t = this.buffer.take(r.traceId);
      due.push(t === undefined ? { traceId: r.traceId, firstUs: r.firstUs, spans: r.spans, fromStore: r.spans.length === 0, recheck: true, checkedBefore: true } : this.dueOf(t, r));
    }
    // Traces are read back and checked in parts; their findings go to the store in one write for
    // the whole round: the write waits its turn behind span batches (up to a second under load), so
    // a write per part let the buffer fill faster than it was checked.
    const checked: Evaluated[] = [];
    let failedAt = due.length;
    let failure: unknown;
    for (let i = 0; i < due.length; ) {
      const end = partEnd(due, i);
      try {
        checked.push(await this.evaluate(due.slice(i, end)));
      } catch (error) {
        failedAt = i;
        failure = error;
        break;
      }
      i = end;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (checked.length > 0) {
      try {
        await this.commit(checked);
        this.deps.onChecked?.(checked.flatMap((c) => c.part.map((d) => d.traceId)), upToArrival);
      } catch (error) {
        failedAt = 0;
        failure = error;
      }
    }
    if (failure === undefined) this.lastError = undefined;
    else {
      this.deps.observer?.failed();
      this.lastError = `check failed, retrying later: ${(failure as Error).message}`;
      this.warn(`chain checker: ${this.lastError}`);
      // Put the traces back; they are due again after the check delay.
      for (const d of due.slice(failedAt)) {
        this.pending.remove(d.firstUs);
        if (d.fromStore) this.spilled.add(d.traceId);
        if (d.spans.length > 0) this.spansStored(d.spans);
        else if (this.rechecks.add({ atUs: this.nowUs() + this.options.checkDelayMs * 1000, traceId: d.traceId, firstUs: d.firstUs, spans: [] })) this.pending.add(d.firstUs);
      }
    }
    // Drops whose flow window is over are deleted (each round, also one that checked nothing).
    await this.deps.sampler?.flush(this.nowUs(), (traceId) => this.buffer.has(traceId));
    await this.saveCheckpoint(false);
  }

  /**
   * A trace taken from the buffer, with the spans of its waiting re-check when it has one (those are
   * the whole trace as checked then, so nothing needs reading back).
   */
  private dueOf(t: TakenTrace, held: Recheck | undefined): Due {
    if (held === undefined) {
      const fromStore = t.droppedSpans > 0 || this.spilled.has(t.traceId);
      // `delete` first: the id is let go either way once the trace is taken.
      const restored = this.restoredIds.delete(t.traceId);
      return { traceId: t.traceId, firstUs: t.firstUs, spans: t.spans, fromStore, recheck: false, checkedBefore: restored || fromStore };
    }
    // One pending count per trace: keep the older arrival.
    this.pending.remove(Math.max(held.firstUs, t.firstUs));
    return { traceId: t.traceId, firstUs: Math.min(held.firstUs, t.firstUs), spans: held.spans.concat(t.spans), fromStore: t.droppedSpans > 0 || held.spans.length === 0, recheck: false, checkedBefore: true };
  }

  /** Reads back the traces of `part` whose store may hold more than was buffered. */
  private async readBackTraces(part: Due[]): Promise<void> {
    const reads = part.filter((d) => d.fromStore);
    if (reads.length === 0) return;
    const traces = await this.store.getTraces(reads.map((d) => d.traceId));
    this.readBack += reads.length;
    for (let k = 0; k < reads.length; k++) {
      const stored = traces[k] ?? [];
      const d = reads[k]!;
      // Compact: the spans may be held for a re-check. Those held are kept too: with split roles
      // the checker has them from JetStream, maybe before the ingester stored them (an empty
      // answer, from retention, keeps the buffer's alone). Records are merged before the check.
      if (stored.length > 0) d.spans = (stored.map((s) => compactSpan(s, d.traceId)).concat(d.spans));
    }
  }

  /** Reads back what is needed and runs the rules on one part; nothing is stored yet. */
  private async evaluate(part: Due[]): Promise<Evaluated> {
    // From here their spans are let go: a span arriving for them from now on is read back with the rest.
    for (const d of part) this.spilled.add(d.traceId);
    await this.readBackTraces(part);
    // A span handed in twice (a redelivered message, or one restored from the store and redelivered)
    // counts once, and a start record gives way to its span's end record: the records are merged as
    // on read (not by span id alone: Zipkin's shared halves share one, and the start record would win).
    const traces = part.map((d) => mergeRecords(d.spans));
    const nowUs = this.nowUs();
    const flows = this.flows.contracts;
    // The index: each trace is checked against the contracts it could be an instance of only.
    const check: CheckOptions = { ...this.ruleOptions(), flows: this.flows.index };
    const all: Finding[] = [];
    const byTrace: Finding[][] = [];
    const later: Recheck[] = [];
    const drops = this.deps.sdkDrops?.() ?? [];
    for (let k = 0; k < part.length; k++) {
      const spans = traces[k] ?? [];
      let found = spans.length === 0 ? [] : pinFindings(checkTrace(spans, check, nowUs) as Finding[], spans);
      if (drops.length > 0 && found.length > 0) found = annotateSdkDrops(found, spans, drops);
      byTrace.push(found);
      for (const f of found) all.push(f);
      if (spans.length === 0 || part[k]!.recheck) continue;
      const flowOutcome = flows.length > 0 ? this.flows.evaluate(spans, nowUs) : { pendingUntilUs: undefined };
      const settleUs = Math.max(this.lastDeadlineUs(spans), flowOutcome.pendingUntilUs ?? 0);
      if (settleUs > nowUs) {
        // Once more when every deadline is over (bounded by the maximum wait, against skewed clocks).
        const atUs = nowUs + Math.min(settleUs - nowUs, this.options.maxWaitMs * 1000) + 1000;
        // Without room in the memory budget the re-check reads the trace back instead.
        later.push({ atUs, traceId: part[k]!.traceId, firstUs: part[k]!.firstUs, spans: this.mayHold(spans.length) ? spans : [] });
      }
    }
    if (flows.length > 0) {
      for (let k = 0; k < part.length; k++) if (part[k]!.recheck && (traces[k]?.length ?? 0) > 0) this.flows.evaluate(traces[k]!, nowUs);
    }
    return { part, byTrace, all, later };
  }

  /** Stores the findings of a round's parts in one write, then counts, schedules re-checks and alerts. */
  private async commit(checked: readonly Evaluated[]): Promise<void> {
    const part = checked.flatMap((c) => c.part);
    const byTrace = checked.flatMap((c) => c.byTrace);
    const all = checked.flatMap((c) => c.all);
    const fresh = all.length === 0 ? [] : await this.newFindings(part, byTrace);
    // The findings of each checked trace are replaced as a whole: a fault that late spans cleared
    // (a consumer that showed up after all) leaves no stale finding behind.
    await this.store.replaceFindings(
      part.map((d) => d.traceId),
      all,
    );
    for (const d of part) this.pending.remove(d.firstUs);
    const recheckAt = new Map<string, number>();
    for (const c of checked) {
      for (const r of c.later) {
        if (this.rechecks.add(r)) this.pending.add(r.firstUs);
        recheckAt.set(r.traceId, r.atUs);
      }
    }
    // Whole traces, their findings stored: tail sampling decides on them (or waits for their re-check).
    this.deps.sampler?.offer(
      part.map((d, k) => ({ traceId: d.traceId, spans: d.spans, findings: byTrace[k]!, recheckAtUs: recheckAt.get(d.traceId) })),
      this.nowUs(),
    );
    this.checkedTraces += part.length;
    this.findingCount += fresh.length;
    this.deps.observer?.checked(part.length);
    if (fresh.length > 0) {
      this.deps.observer?.found(fresh);
      this.deps.alerts?.offer(fresh);
    }
  }

  /** The latest rule deadline of the trace: its last span start plus the deadline. */
  private lastDeadlineUs(spans: readonly Span[]): number {
    let last = 0;
    for (const s of spans) if (s.startUs > last) last = s.startUs;
    return last + this.options.deadlineMs * 1000;
  }

  /**
   * Findings not stored before (a re-check replaces the old ones: those are neither counted nor
   * alerted again). Only a trace checked before can have stored findings; the look-ups run together.
   */
  private async newFindings(part: Due[], byTrace: Finding[][]): Promise<Finding[]> {
    const fresh: Finding[] = [];
    const lookups: Promise<void>[] = [];
    for (let k = 0; k < part.length; k++) {
      const found = byTrace[k]!;
      if (found.length === 0) continue;
      if (!part[k]!.checkedBefore) {
        for (const f of found) fresh.push(f);
        continue;
      }
      lookups.push(
        this.store.findFindings({ traceId: part[k]!.traceId, limit: MAX_FINDING_LIMIT }).then((old) => {
          const seen = new Set(old.map((f) => `${f.rule}\u0000${f.spanId}`));
          for (const f of found) if (!seen.has(`${f.rule}\u0000${f.spanId}`)) fresh.push(f);
        }),
      );
    }
    await Promise.all(lookups);
    return fresh;
  }

  private async saveCheckpoint(force: boolean): Promise<void> {
    if (this.saving) return;
    const at = this.pending.oldestUs(this.nowUs());
    if (!force && Math.abs(at - this.savedUs) < CHECKPOINT_STEP_US) return;
    this.saving = true;
    try {
      await this.checkpoint.write({ pendingSinceUs: at });
      this.savedUs = at;
    } catch (error) {
      this.warn(`chain checker: cannot write ${this.checkpoint.path}: ${(error as Error).message}`);
    } finally {
      this.saving = false;
    }
  }

  /**
   * Runs one round now, after the round under way (if any): what is due by the clock is checked and
   * stored when it resolves. The timer does the same on its own; tests with a manual clock call this
   * instead of waiting for it, so that no result depends on how fast the machine is.
   */
  async checkNow(): Promise<void> {
    await this.starting;
    while (this.round !== undefined) await this.round;
    this.tick();
    // `tick` started one (none when stopped); the narrowing above does not see it.
    await (this.round as Promise<void> | undefined);
  }

  /** Resolves when nothing is due or being checked (tests; the CLI does not need it). */
  async settled(): Promise<void> {
    await this.starting;
    await this.round;
  }

  status(): CheckerStatus {
    const b = this.buffer.stats();
    const s: CheckerStatus = {
      openTraces: b.openTraces,
      openSpans: b.openSpans,
      droppedTraces: b.droppedTraces,
      droppedSpans: b.droppedSpans,
      pendingRechecks: this.rechecks.size,
      droppedRechecks: this.rechecks.dropped,
      checkedTraces: this.checkedTraces,
      findings: this.findingCount,
      restored: this.restored,
      readBack: this.readBack,
      heldBytes: this.heldBytes(),
      unheldSpans: this.unheldSpans,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /**
   * Stops the timer, lets the round under way finish, and writes the checkpoint: traces still open
   * are re-opened by the next start. Alerts get `alertTimeoutMs` to go out.
   */
  async stop(alertTimeoutMs = 2000): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.starting?.catch(() => undefined);
    await this.round;
    await this.saveCheckpoint(true);
    this.deps.sampler?.stop();
    await this.deps.alerts?.close(alertTimeoutMs);
  }
}
