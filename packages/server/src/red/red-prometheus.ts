/**
 * `linktrace_span_duration_seconds`: a Prometheus histogram of stored spans by service, operation,
 * kind and status. Services and operations are the RED aggregator's capped names (`other` past the
 * caps), kind and status are closed sets, so the series count is bounded. The children are cached
 * per label set so the ingest path does not build a label string per span once a set is known.
 */
import { Histogram, type Registry } from 'prom-client';
import type { Span } from '@linktrace/model';
import type { SpanObserver } from './red-aggregator.js';

const BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Child = ReturnType<Histogram<string>['labels']>;

export function spanDurationHistogram(registry: Registry): SpanObserver {
  const histogram = new Histogram({
    name: 'linktrace_span_duration_seconds',
    help: 'Durations of stored spans, by service, operation (both capped: later names count as other), kind and status.',
    labelNames: ['service', 'operation', 'kind', 'status'],
    buckets: BUCKETS_SECONDS,
    registers: [registry],
  });
  // service → operation → kind → status → child: bounded by the caps; no string built per span.
  const children = new Map<string, Map<string, Map<string, Map<string, Child>>>>();
  return (service: string, operation: string, span: Span): void => {
    if (span.durationUs === undefined) return;
    let ops = children.get(service);
    if (ops === undefined) children.set(service, (ops = new Map()));
    let byKind = ops.get(operation);
    if (byKind === undefined) ops.set(operation, (byKind = new Map()));
    let byStatus = byKind.get(span.kind);
    if (byStatus === undefined) byKind.set(span.kind, (byStatus = new Map()));
    const status = span.status.code;
    let child = byStatus.get(status);
    if (child === undefined) byStatus.set(status, (child = histogram.labels({ service, operation, kind: span.kind, status })));
    child.observe(span.durationUs / 1e6);
  };
}
