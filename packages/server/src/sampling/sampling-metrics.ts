/**
 * Tail sampling on /metrics: every decision by reason, every record deleted, and what the bounds
 * cut short. Read from the sampler's counts when scraped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { KEEP_REASONS } from './keep-options.js';
import type { SamplingCounts, TailSampler } from './tail-sampler.js';

/** A counter that follows a cumulative count of the sampler. */
function followedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = Math.max(last, v);
    },
  });
}

export function registerSamplingMetrics(registry: Registry, sampler: TailSampler): void {
  const counts = (): SamplingCounts => sampler.counts;
  const last = new Map<string, number>();
  new Counter({
    name: 'linktrace_tail_traces_total',
    help: 'Tail sampling decisions per whole trace: kept (by the policy, rate budget or flow that kept it) or dropped (reason rate: no policy kept it, the budget was spent and no trace of its flow was kept).',
    labelNames: ['decision', 'reason'],
    registers: [registry],
    collect() {
      const c = counts();
      const values: [string, string, number][] = KEEP_REASONS.map((r) => ['kept', r, c.kept[r]]);
      values.push(['dropped', 'rate', c.dropped]);
      for (const [decision, reason, v] of values) {
        const key = `${decision}/${reason}`;
        const before = last.get(key) ?? 0;
        // Every series from the start, at 0.
        this.inc({ decision, reason }, Math.max(0, v - before));
        last.set(key, Math.max(before, v));
      }
    },
  });
  followedCounter(registry, 'linktrace_tail_deleted_spans_total', 'Span records deleted from the store because their trace was dropped by tail sampling.', () => counts().deletedSpans);
  followedCounter(registry, 'linktrace_tail_deleted_findings_total', 'Findings deleted with the traces tail sampling dropped (only when --keep does not include finding).', () => counts().deletedFindings);
  followedCounter(
    registry,
    'linktrace_tail_decided_early_total',
    'Drops decided before their flow window ended because --keep-max-pending decisions were waiting.',
    () => counts().decidedEarly,
  );
  followedCounter(
    registry,
    'linktrace_tail_kept_too_late_total',
    'Traces of a business flow dropped before another trace of the flow was kept (a longer --keep-window would have kept them).',
    () => counts().keptTooLate,
  );
  followedCounter(registry, 'linktrace_tail_delete_failures_total', 'Deletions of dropped traces that failed (retried with the next check round).', () => counts().deleteFailures);
  followedCounter(
    registry,
    'linktrace_tail_undeleted_traces_total',
    'Dropped traces left in the store because too many deletions were waiting behind a failing store.',
    () => counts().undeleted,
  );
  followedCounter(
    registry,
    'linktrace_tail_flow_keys_evicted_total',
    'Flow keys (trace ids, entity keys) let go before their window ended because too many were held (2 per --keep-max-pending); their flows may be split.',
    () => sampler.status().flowKeysEvicted,
  );
  new Gauge({
    name: 'linktrace_tail_pending_traces',
    help: 'Checked traces waiting for the end of their flow window before they are dropped.',
    registers: [registry],
    collect() {
      this.set(sampler.status().pendingTraces);
    },
  });
}
