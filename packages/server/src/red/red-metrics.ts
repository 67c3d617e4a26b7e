/**
 * RED metrics as the app holds them: the aggregator (services, operations), the edge finder feeding
 * it edges, the Prometheus histogram, and the snapshot under `<dataDir>/red/` (loaded at open,
 * saved every minute and at stop). Its memory is counted in --max-memory (`bytes`); while its share
 * is full (`mayGrow` says no) new label combinations count as `other` and the edge finder holds no
 * span back (memory-budget.ts).
 */
import type { Registry } from 'prom-client';
import type { Span } from '@linktrace/model';
import { DEFAULT_RED_LIMITS, RedAggregator, type RedLimits } from './red-aggregator.js';
import { DEFAULT_EDGE_OPTIONS, EdgeFinder, type EdgeFinderOptions } from './red-edges.js';
import { spanDurationHistogram } from './red-prometheus.js';
import { loadRed, saveRed } from './red-snapshot.js';

export interface RedOptions {
  limits?: Partial<RedLimits>;
  edges?: Partial<EdgeFinderOptions>;
  /** How often the snapshot is rewritten, ms; default one minute. */
  saveEveryMs?: number;
  /** False while RED's share of the memory budget is full (MemoryBudget.redMayGrow). Default: always true. */
  mayGrow?: () => boolean;
}

export class RedMetrics {
  readonly aggregator: RedAggregator;
  readonly edges: EdgeFinder;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    registry: Registry,
    readonly clock: () => number,
    private readonly warn: (line: string) => void,
    private readonly options: RedOptions,
  ) {
    const mayGrow = options.mayGrow ?? ((): boolean => true);
    this.aggregator = new RedAggregator(clock, { ...DEFAULT_RED_LIMITS, ...options.limits }, spanDurationHistogram(registry), mayGrow);
    this.edges = new EdgeFinder((from, to, span) => this.aggregator.recordEdge(from, to, span), clock, { ...DEFAULT_EDGE_OPTIONS, ...options.edges }, mayGrow);
  }

  /** Estimated heap bytes held: series and cells, and the edge finder's ids and waiting spans. */
  get bytes(): number {
    return this.aggregator.size.bytes + this.edges.bytes;
  }

  static async open(dataDir: string, registry: Registry, clock: () => number, warn: (line: string) => void, options: RedOptions = {}): Promise<RedMetrics> {
    const red = new RedMetrics(dataDir, registry, clock, warn, options);
    const problem = await loadRed(dataDir, red.aggregator);
    if (problem !== undefined) warn(problem);
    return red;
  }

  /** The pipeline's onStored hook. */
  observe(spans: readonly Span[]): void {
    this.aggregator.observe(spans);
    this.edges.observe(spans);
  }

  /** Saves periodically (not in a read-only start: the disk is full). */
  start(): void {
    this.timer = setInterval(() => void this.save(), this.options.saveEveryMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.save();
  }

  save(): Promise<void> {
    this.saving = this.saving.then(() =>
      saveRed(this.dataDir, this.aggregator).catch((error: unknown) => this.warn(`RED metrics: could not save the snapshot (${(error as Error).message})`)),
    );
    return this.saving;
  }
}
