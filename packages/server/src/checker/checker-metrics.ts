/**
 * The checker's and the alert sinks' Prometheus metrics, in the app's registry: findings per rule,
 * traces checked, failures, open traces, and what the bounded buffer and queues refused.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { RULE_IDS } from '@linktrace/storage';
import type { Finding } from '@linktrace/storage';
import type { AlertObserver } from '../alerts/sink-queue.js';

export interface CheckerGauges {
  openTraces(): number;
  openSpans(): number;
  droppedTraces(): number;
  droppedSpans(): number;
  droppedRechecks(): number;
  pendingRechecks(): number;
  unheldSpans(): number;
}

export interface CheckerObserver {
  checked(traces: number): void;
  found(findings: readonly Finding[]): void;
  failed(): void;
}

/** A counter whose value is read from a cumulative source when scraped. */
function sourcedCounter(registry: Registry, name: string, help: string, read: () => number): void {
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

export class CheckerMetrics implements CheckerObserver, AlertObserver {
  private readonly findings: Counter<'rule'>;
  private readonly checkedTraces: Counter;
  private readonly failures: Counter;
  private readonly alertsSent: Counter<'sink'>;
  private readonly alertsDropped: Counter<'sink' | 'reason'>;
  private readonly alertsDeduplicated: Counter;

  constructor(registry: Registry, gauges: CheckerGauges) {
    const registers = [registry];
    this.findings = new Counter({
      name: 'linktrace_findings_total',
      help: 'New chain-check findings, by rule (a finding replaced by a re-check is not counted again).',
      labelNames: ['rule'],
      registers,
    });
    // Every rule shows from the start, at 0, so that rates and alerts on them work before the first finding.
    for (const rule of RULE_IDS) this.findings.inc({ rule }, 0);
    this.checkedTraces = new Counter({ name: 'linktrace_checker_traces_checked_total', help: 'Trace evaluations by the chain checker.', registers });
    this.failures = new Counter({
      name: 'linktrace_checker_failures_total',
      help: 'Check rounds that failed (store unreachable); their traces are checked again later.',
      registers,
    });
    new Gauge({
      name: 'linktrace_checker_open_traces',
      help: 'Traces waiting for their check (open in the buffer).',
      registers,
      collect() {
        this.set(gauges.openTraces());
      },
    });
    new Gauge({
      name: 'linktrace_checker_open_spans',
      help: 'Spans held by the checker buffer.',
      registers,
      collect() {
        this.set(gauges.openSpans());
      },
    });
    new Gauge({
      name: 'linktrace_checker_pending_rechecks',
      help: 'Traces waiting to be checked (again) from the store: re-checks after a deadline, and traces the full buffer refused.',
      registers,
      collect() {
        this.set(gauges.pendingRechecks());
      },
    });
    sourcedCounter(registry, 'linktrace_checker_dropped_traces_total', 'Traces the buffer refused because the open-trace cap was reached (checked later from the store).', gauges.droppedTraces);
    sourcedCounter(
      registry,
      'linktrace_checker_dropped_spans_total',
      'Spans the checker buffer refused (traces over the cap, or spans beyond the per-trace cap); they are stored but their trace may be checked without them.',
      gauges.droppedSpans,
    );
    sourcedCounter(
      registry,
      'linktrace_checker_unheld_spans_total',
      'Spans the checker did not hold because its share of the memory budget was full; their traces were checked from the store.',
      gauges.unheldSpans,
    );
    sourcedCounter(registry, 'linktrace_checker_dropped_rechecks_total', 'Re-checks (after a deadline, or of a refused trace) not scheduled because the queue was full.', gauges.droppedRechecks);
    this.alertsSent = new Counter({ name: 'linktrace_alerts_sent_total', help: 'Findings delivered to an alert sink, by sink.', labelNames: ['sink'], registers });
    this.alertsDropped = new Counter({
      name: 'linktrace_alerts_dropped_total',
      help: 'Findings not delivered to an alert sink, by sink and reason (queue_full, failed, shutdown).',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.alertsDeduplicated = new Counter({
      name: 'linktrace_alerts_deduplicated_total',
      help: 'Findings not alerted because the same rule, service, entity and target was alerted within the window.',
      registers,
    });
  }

  checked(traces: number): void {
    this.checkedTraces.inc(traces);
  }

  found(findings: readonly Finding[]): void {
    for (const f of findings) this.findings.inc({ rule: f.rule });
  }

  failed(): void {
    this.failures.inc();
  }

  sent(sink: string, findings: number): void {
    this.alertsSent.inc({ sink }, findings);
  }

  dropped(sink: string, reason: string, findings: number): void {
    this.alertsDropped.inc({ sink, reason }, findings);
  }

  deduplicated(findings: number): void {
    this.alertsDeduplicated.inc(findings);
  }
}
