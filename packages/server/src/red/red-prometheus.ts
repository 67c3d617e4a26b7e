/**
 * `linktrace_span_duration_seconds`: a Prometheus histogram of stored spans by service, operation,
 * kind and status. Services and operations are the RED aggregator's capped names (`other` past the
 * caps), kind and status are closed sets, so the series count is bounded.
 *
 * Its own small collector rather than prom-client's Histogram: prom-client hashes the label object
 * on every observation (~0.7 µs), which on the ingest path is most of RED's cost. Here a label set is
 * found through nested maps and an observation is one array increment; the registry renders the
 * counts only when scraped.
 */
import type { Registry } from 'prom-client';
import type { Span } from '@linktrace/model';
import type { SpanObserver } from './red-aggregator.js';

const BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const NAME = 'linktrace_span_duration_seconds';
const HELP = 'Durations of stored spans, by service, operation (both capped: later names count as other), kind and status.';

interface LabelSet {
  labels: { service: string; operation: string; kind: string; status: string };
  /** Per bucket (the last one +Inf), not cumulative. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export function spanDurationHistogram(registry: Registry): SpanObserver {
  // service → operation → kind → status → counts: bounded by the caps.
  const sets = new Map<string, Map<string, Map<string, Map<string, LabelSet>>>>();
  const all: LabelSet[] = [];
  const metric = {
    name: NAME,
    help: HELP,
    type: 'histogram',
    aggregator: 'sum',
    get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
      const values: MetricValue[] = [];
      for (const s of all) {
        let cumulative = 0;
        for (let i = 0; i <= BUCKETS_SECONDS.length; i++) {
          cumulative += s.counts[i]!;
          values.push({ metricName: `${NAME}_bucket`, labels: { le: i < BUCKETS_SECONDS.length ? BUCKETS_SECONDS[i]! : '+Inf', ...s.labels }, value: cumulative });
        }
        values.push({ metricName: `${NAME}_sum`, labels: s.labels, value: s.sum });
        values.push({ metricName: `${NAME}_count`, labels: s.labels, value: s.count });
      }
      return Promise.resolve({ name: NAME, help: HELP, type: 'histogram', aggregator: 'sum', values });
    },
    reset(): void {
      for (const s of all) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);

  return (service: string, operation: string, span: Span): void => {
    const us = span.durationUs;
    if (us === undefined) return;
    let ops = sets.get(service);
    if (ops === undefined) sets.set(service, (ops = new Map()));
    let byKind = ops.get(operation);
    if (byKind === undefined) ops.set(operation, (byKind = new Map()));
    let byStatus = byKind.get(span.kind);
    if (byStatus === undefined) byKind.set(span.kind, (byStatus = new Map()));
    const status = span.status.code;
    let set = byStatus.get(status);
    if (set === undefined) {
      set = { labels: { service, operation, kind: span.kind, status }, counts: new Float64Array(BUCKETS_SECONDS.length + 1), sum: 0, count: 0 };
      byStatus.set(status, set);
      all.push(set);
    }
    const seconds = us / 1e6;
    let i = 0;
    while (i < BUCKETS_SECONDS.length && seconds > BUCKETS_SECONDS[i]!) i++;
    set.counts[i]!++;
    set.sum += seconds;
    set.count++;
  };
}
