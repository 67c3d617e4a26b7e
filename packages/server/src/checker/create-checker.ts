/** Wires the chain checker, its metrics and the alert sinks together (used by `buildApp`). */
import type { SdkDropReport } from '@linktrace/model';
import type { Registry } from 'prom-client';
import { AlertDispatcher, type AlertOptions } from '../alerts/alert-dispatcher.js';
import type { AlertSink } from '../alerts/alert-sink.js';
import { ChainChecker } from './chain-checker.js';
import { CheckerMetrics } from './checker-metrics.js';
import { resolveChecker, type CheckerOptions } from './checker-options.js';
import type { CheckerStore } from './checker-store.js';
import type { MemoryBudget } from '../memory-budget.js';
import type { TailSampler } from '../sampling/tail-sampler.js';

export interface CheckerAlerts {
  sinks: readonly AlertSink[];
  options?: AlertOptions;
}

export interface CheckerSetup {
  store: CheckerStore;
  options: CheckerOptions;
  alerts?: CheckerAlerts;
  dataDir: string;
  registry: Registry;
  warn: (line: string) => void;
  /** The latest SDK drop reports of instances that lost spans (notes on missing-hop findings). */
  sdkDrops?: () => readonly SdkDropReport[];
  /** The server clock, ms since the epoch (default `Date.now`). */
  clock?: () => number;
  /** Shared with the ingest backlog. */
  memory?: MemoryBudget;
  /** Tail sampling, when `--keep` turned it on. */
  sampler?: TailSampler;
  /** Told which traces were checked and stored, after each round (see `ChainCheckerDeps.onChecked`). */
  onChecked?: (traceIds: readonly string[], upToArrival: number) => void;
}

/** Throws ConfigError on bad options. */
export function createChecker(setup: CheckerSetup): { checker: ChainChecker; alerts: AlertDispatcher } {
  const options = resolveChecker(setup.options);
  // The gauges are read when /metrics is scraped, after `checker` exists.
  const metrics: CheckerMetrics = new CheckerMetrics(setup.registry, {
    openTraces: (): number => checker.status().openTraces,
    openSpans: (): number => checker.status().openSpans,
    droppedTraces: (): number => checker.status().droppedTraces,
    droppedSpans: (): number => checker.status().droppedSpans,
    droppedRechecks: (): number => checker.status().droppedRechecks,
    pendingRechecks: (): number => checker.status().pendingRechecks,
    unheldSpans: (): number => checker.status().unheldSpans,
  });
  const alerts: AlertDispatcher = new AlertDispatcher(setup.alerts?.sinks ?? [], setup.alerts?.options, metrics, setup.warn, setup.clock);
  const checker: ChainChecker = new ChainChecker({
    store: setup.store,
    options,
    dataDir: setup.dataDir,
    alerts,
    observer: metrics,
    warn: setup.warn,
    sdkDrops: setup.sdkDrops,
    clock: setup.clock,
    memory: setup.memory,
    sampler: setup.sampler,
    onChecked: setup.onChecked,
  });
  return { checker, alerts };
}
