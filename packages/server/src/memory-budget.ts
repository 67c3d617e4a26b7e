/**
 * One budget in bytes for what the server holds in memory on behalf of its senders: the ingest
 * backlog (accepted spans not yet in the store) and the chain checker's held spans. Both are
 * estimates kept as counters (no object is measured): per span at decode, per compact span in the
 * checker.
 *
 * The checker may hold spans up to half the budget; past that it stops holding them and checks
 * traces from the store (`checkerMayHold` says no until it is back under a quarter, so that it does
 * not flap). The backlog takes what the checker leaves; past that, ingest answers 429. `/healthz`
 * reports the budget, and `degraded` while the checker works from the store.
 */
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

export interface MemoryStatus {
  limitBytes: number;
  usedBytes: number;
  backlogBytes: number;
  checkerBytes: number;
  /** False while the checker checks from the store because its share of the budget is full. */
  checkerHolding: boolean;
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
  private holding = true;

  constructor(readonly limitBytes: number) {}

  /** Where the parts' sizes are read (set once each, by the app). */
  measure(parts: { backlog?: () => number; checker?: () => number }): void {
    if (parts.backlog !== undefined) this.backlogBytes = parts.backlog;
    if (parts.checker !== undefined) this.checkerBytes = parts.checker;
  }

  /** Whether the backlog may take `bytes` more (it takes what the checker does not hold). */
  backlogFits(bytes: number): boolean {
    return this.backlogBytes() + this.checkerBytes() + bytes <= this.limitBytes;
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
    return { limitBytes: this.limitBytes, usedBytes: backlogBytes + checkerBytes, backlogBytes, checkerBytes, checkerHolding: this.checkerHolding };
  }

  /** Why `/healthz` says `degraded`; undefined when the server works as usual. */
  degradedReason(): string | undefined {
    if (this.checkerHolding) return undefined;
    return `memory budget: the chain checker holds ${mb(this.checkerBytes())} of its ${mb(this.limitBytes / 2)} share of --max-memory; it checks traces from the store instead of holding their spans`;
  }

  /** The budget and its parts on /metrics. */
  register(registry: Registry): void {
    const budget = this.limitBytes;
    new Gauge({
      name: 'linktrace_memory_budget_bytes',
      help: 'The memory budget (--max-memory) shared by the ingest backlog and the chain checker.',
      registers: [registry],
      collect() {
        this.set(budget);
      },
    });
    const parts = { backlog: () => this.backlogBytes(), checker: () => this.checkerBytes() };
    new Gauge({
      name: 'linktrace_memory_used_bytes',
      help: 'Estimated bytes held within the memory budget, by part (backlog: accepted spans not yet stored; checker: spans held for checks).',
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
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
