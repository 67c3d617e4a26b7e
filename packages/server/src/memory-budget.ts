/**
 * One budget in bytes for what the server holds in memory on behalf of its senders: the ingest
 * backlog (accepted spans not yet in the store), the chain checker's held spans, and the RED
 * metrics' state (minute cells per series, the edge finder's ids and waiting spans). All are
 * estimates kept as counters (no object is measured): per span at decode, per compact span in the
 * checker, per cell, series, id and waiting span in RED.
 *
 * The checker may hold spans up to half the budget; past that it stops holding them and checks
 * traces from the store (`checkerMayHold` says no until it is back under a quarter, so that it does
 * not flap). RED may hold up to a quarter: its edge finder is sized to a sixteenth (`redEdgeBytes`,
 * its id directory and waiting spans are bounded, so that part never grows past it); past the quarter
 * new label combinations (services, operations, edges) count as `other` and the edge finder decides
 * spans at once instead of holding them (`redMayGrow` says no until RED is back under three
 * sixteenths, as its minute cells age out after 24 h).
 * The backlog takes what the others leave; past that, ingest answers 429. `/healthz` reports the
 * budget, and `degraded` while the checker works from the store or RED is capped.
 */
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

export interface MemoryStatus {
  limitBytes: number;
  usedBytes: number;
  backlogBytes: number;
  checkerBytes: number;
  redBytes: number;
  /** False while the checker checks from the store because its share of the budget is full. */
  checkerHolding: boolean;
  /** True while RED's share is full: new label combinations count as `other`. */
  redCapped: boolean;
}

/**
 * The default `--max-memory`: an eighth of the machine's memory (or of the cgroup limit), and of the
 * JavaScript heap limit (the backlog and the held spans live on that heap, next to requests in
 * flight, query answers and caches; the store's own memory is outside it). A flood of long-lived
 * traces took RSS to 2.5 GB with 1 GB of budget and to 1.3 GB with 256 MB (bench/src/abuse/flood).
 */
export function defaultMemoryBudget(): number {
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const machine = constrained !== undefined && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  return Math.floor(Math.min(machine, getHeapStatistics().heap_size_limit) / 8);
}

export class MemoryBudget {
  private backlogBytes: () => number = () => 0;
  private checkerBytes: () => number = () => 0;
  private redBytes: () => number = () => 0;
  private holding = true;
  private redGrowing = true;

  constructor(readonly limitBytes: number) {}

  /** Where the parts' sizes are read (set once each, by the app). */
  measure(parts: { backlog?: () => number; checker?: () => number; red?: () => number }): void {
    if (parts.backlog !== undefined) this.backlogBytes = parts.backlog;
    if (parts.checker !== undefined) this.checkerBytes = parts.checker;
    if (parts.red !== undefined) this.redBytes = parts.red;
  }

  /** Whether the backlog may take `bytes` more (it takes what the checker and RED do not hold). */
  backlogFits(bytes: number): boolean {
    return this.backlogBytes() + this.checkerBytes() + this.redBytes() + bytes <= this.limitBytes;
  }

  /** What RED's edge finder is sized to (red-edges.ts edgeBoundsWithin): a sixteenth of the budget. */
  get redEdgeBytes(): number {
    return this.limitBytes / 16;
  }

  /** Whether RED may track new label combinations: within a quarter of the budget, with hysteresis. */
  redMayGrow(): boolean {
    const held = this.redBytes();
    if (this.redGrowing) {
      if (held > this.limitBytes / 4) this.redGrowing = false;
    } else if (held <= (this.limitBytes * 3) / 16) {
      this.redGrowing = true;
    }
    return this.redGrowing;
  }

  /** Whether the checker may hold `bytes` more: within half the budget, with hysteresis. */
  checkerMayHold(bytes: number): boolean {
    const held = this.checkerBytes();
    if (this.holding) {
      if (held + bytes <= this.limitBytes / 2) return true;
      this.holding = false;
      return false;
    }
    if (held + bytes > this.limitBytes / 4) return false;
    this.holding = true;
    return true;
  }

  /** Back to holding once the checker let go of enough (its checks ran since it last asked). */
  private get checkerHolding(): boolean {
    if (!this.holding && this.checkerBytes() <= this.limitBytes / 4) this.holding = true;
    return this.holding;
  }

  status(): MemoryStatus {
    const backlogBytes = this.backlogBytes();
    const checkerBytes = this.checkerBytes();
    const redBytes = this.redBytes();
    return {
      limitBytes: this.limitBytes,
      usedBytes: backlogBytes + checkerBytes + redBytes,
      backlogBytes,
      checkerBytes,
      redBytes,
      checkerHolding: this.checkerHolding,
      redCapped: !this.redMayGrow(),
    };
  }

  /** Why `/healthz` says `degraded`; undefined when the server works as usual. */
  degradedReason(): string | undefined {
    const reasons: string[] = [];
    if (!this.checkerHolding) {
      reasons.push(`memory budget: the chain checker holds ${mb(this.checkerBytes())} of its ${mb(this.limitBytes / 2)} share of --max-memory; it checks traces from the store instead of holding their spans`);
    }
    if (!this.redMayGrow()) {
      reasons.push(`memory budget: RED metrics hold ${mb(this.redBytes())} of their ${mb(this.limitBytes / 4)} share of --max-memory; new services, operations and edges are counted as "other"`);
    }
    return reasons.length === 0 ? undefined : reasons.join('; ');
  }

  /** The budget and its parts on /metrics. */
  register(registry: Registry): void {
    const budget = this.limitBytes;
    new Gauge({
      name: 'linktrace_memory_budget_bytes',
      help: 'The memory budget (--max-memory) shared by the ingest backlog, the chain checker and RED metrics.',
      registers: [registry],
      collect() {
        this.set(budget);
      },
    });
    const parts = { backlog: () => this.backlogBytes(), checker: () => this.checkerBytes(), red: () => this.redBytes() };
    new Gauge({
      name: 'linktrace_memory_used_bytes',
      help: 'Estimated bytes held within the memory budget, by part (backlog: accepted spans not yet stored; checker: spans held for checks; red: RED metrics cells and edge finder).',
      labelNames: ['part'],
      registers: [registry],
      collect() {
        for (const [part, read] of Object.entries(parts)) this.set({ part }, read());
      },
    });
    const holding = (): boolean => this.checkerHolding;
    new Gauge({
      name: 'linktrace_checker_store_mode',
      help: '1 while the chain checker checks traces from the store because its share of the memory budget is full.',
      registers: [registry],
      collect() {
        this.set(holding() ? 0 : 1);
      },
    });
    const redCapped = (): boolean => !this.redMayGrow();
    new Gauge({
      name: 'linktrace_red_capped',
      help: '1 while RED metrics count new services, operations and edges as "other" because their share of the memory budget is full.',
      registers: [registry],
      collect() {
        this.set(redCapped() ? 1 : 0);
      },
    });
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
