/**
 * The server's Prometheus metrics (GET /metrics). Each app has its own registry, so several apps in
 * one process (tests) do not share counters. Queue and log depths are read when scraped, not tracked
 * on the hot path.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineObserver } from './pipeline/ingest-pipeline.js';

export interface MetricSources {
  backlogSpans(): number;
  walBytes(): number;
  walSegments(): number;
}

/** prom-client default gauges whose `_total` suffix breaks Prometheus naming; see the constructor. */
const PROM_CLIENT_TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

type HistogramChild = ReturnType<Histogram<string>['labels']>;

export class ServerMetrics implements PipelineObserver {
  readonly registry = new Registry();
  private readonly received: Counter<'receiver'>;
  private readonly rejected: Counter<'receiver' | 'reason'>;
  private readonly droppedSpans: Counter<'reason'>;
  private readonly storedSpans: Counter;
  private readonly storeFailures: Counter;
  private readonly errors: Counter<'code'>;
  private readonly walFsyncs: Counter;
  private readonly walRecords: Counter;
  private readonly walDamaged: Counter;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;
  private readonly latencyChildren = new Map<string, HistogramChild>();

  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.received = new Counter({
      name: 'linktrace_spans_received_total',
      help: 'Spans decoded from ingest requests (accepted or rejected), by receiver.',
      labelNames: ['receiver'],
      registers,
    });
    this.rejected = new Counter({
      name: 'linktrace_spans_rejected_total',
      help: 'Spans refused at ingest, by receiver and reason: the error code of a refused request, or for single spans the decoder rejected invalid_span, too_many_attributes or attribute_too_large.',
      labelNames: ['receiver', 'reason'],
      registers,
    });
    this.droppedSpans = new Counter({
      name: 'linktrace_spans_dropped_total',
      help: 'Spans acknowledged to the sender but never stored, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.storedSpans = new Counter({ name: 'linktrace_spans_stored_total', help: 'Spans written to the store.', registers });
    this.storeFailures = new Counter({
      name: 'linktrace_store_write_failures_total',
      help: 'Store writes that failed and were retried.',
      registers,
    });
    this.errors = new Counter({
      name: 'linktrace_http_errors_total',
      help: 'Error answers, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.walFsyncs = new Counter({ name: 'linktrace_wal_fsyncs_total', help: 'Write-ahead log group commits (one fsync each).', registers });
    this.walRecords = new Counter({ name: 'linktrace_wal_records_total', help: 'Records appended to the write-ahead log.', registers });
    this.walDamaged = new Counter({
      name: 'linktrace_wal_damaged_records_total',
      help: 'Damaged write-ahead log records skipped at start-up replay (a stretch whose damaged header hid where a record ended counts once); the log names segment and offset.',
      registers,
    });
    new Gauge({
      name: 'linktrace_queue_spans',
      help: 'Accepted spans not yet in the store (the WAL-to-store backlog).',
      registers,
      collect() {
        this.set(sources.backlogSpans());
      },
    });
    new Gauge({
      name: 'linktrace_wal_bytes',
      help: 'Bytes of write-ahead log on disk.',
      registers,
      collect() {
        this.set(sources.walBytes());
      },
    });
    new Gauge({
      name: 'linktrace_wal_segments',
      help: 'Write-ahead log segment files on disk.',
      registers,
      collect() {
        this.set(sources.walSegments());
      },
    });
    this.latency = new Histogram({
      name: 'linktrace_http_request_duration_seconds',
      help: 'Request latency, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    if (options.processMetrics === true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'linktrace_' });
      // prom-client names three gauges `..._total`, which Prometheus reserves for counters (promtool
      // refuses them). Their per-type gauges without the suffix carry the same numbers: sum() them.
      for (const name of PROM_CLIENT_TOTAL_GAUGES) this.registry.removeSingleMetric(`linktrace_${name}`);
    }
  }

  spansReceived(receiver: string, count: number): void {
    if (count > 0) this.received.inc({ receiver }, count);
  }

  spansRejected(receiver: string, reason: string, count: number): void {
    if (count > 0) this.rejected.inc({ receiver, reason }, count);
  }

  errorAnswered(code: string): void {
    this.errors.inc({ code });
  }

  walFlushed(records: number): void {
    this.walFsyncs.inc();
    this.walRecords.inc(records);
  }

  walDamagedRecords(count: number): void {
    if (count > 0) this.walDamaged.inc(count);
  }

  stored(spans: number): void {
    this.storedSpans.inc(spans);
  }

  dropped(spans: number): void {
    this.droppedSpans.inc({ reason: 'store_rejected' }, spans);
  }

  storeFailed(): void {
    this.storeFailures.inc();
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.latencyChildren.get(key);
    if (child === undefined) {
      child = this.latency.labels(method, route, String(status));
      this.latencyChildren.set(key, child);
    }
    child.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
