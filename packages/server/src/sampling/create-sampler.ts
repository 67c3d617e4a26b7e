/** Wires tail sampling into the app (used by `buildApp`): the sampler, its p99 yardstick and its metrics. */
import type { Registry } from 'prom-client';
import { ConfigError } from '../config.js';
import type { RedMetrics } from '../red/red-metrics.js';
import { resolveSampling, type SamplingOptions } from './keep-options.js';
import { OperationP99 } from './operation-p99.js';
import { registerSamplingMetrics } from './sampling-metrics.js';
import { TailSampler, type SamplingStatus, type SamplingStore } from './tail-sampler.js';

export interface SamplerSetup {
  sampling?: SamplingOptions;
  checker?: unknown;
  store: object;
  clock?: () => number;
}

function isSamplingStore(store: object): store is SamplingStore {
  return typeof (store as Partial<SamplingStore>).deleteTraces === 'function';
}

/** The sampler the options ask for (none when sampling is off). Throws ConfigError when it cannot run. */
export function createSampler(setup: SamplerSetup, red: RedMetrics, registry: Registry, warn: (line: string) => void): TailSampler | undefined {
  if (setup.sampling === undefined) return undefined;
  // It decides on whole traces as the checker sees them once they went quiet.
  if (setup.checker === undefined) throw new ConfigError('tail sampling (--keep, --keep-rate) needs the chain checker, which decides when a trace is whole');
  const store = setup.store;
  if (!isSamplingStore(store)) throw new ConfigError('tail sampling (--keep, --keep-rate) needs a store that deletes traces (SpanStore.deleteTraces)');
  const clock = setup.clock ?? Date.now;
  const p99 = new OperationP99(red.aggregator, clock);
  const sampler = new TailSampler({ store, options: resolveSampling(setup.sampling), isSlow: (span) => p99.isSlow(span), clock, warn });
  registerSamplingMetrics(registry, sampler);
  return sampler;
}

/** What /healthz adds: the policy and its counts, or `sampling: off`. */
export function samplingHealth(sampler: TailSampler | undefined): { sampling: SamplingStatus | 'off' } {
  return { sampling: sampler === undefined ? 'off' : sampler.status() };
}
