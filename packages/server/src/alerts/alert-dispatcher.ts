/** Hands new findings to every alert sink, after deduplication, each through its own bounded, rate-limited queue. */
import type { Finding } from '@linktrace/storage';
import { AlertDedupe } from './alert-dedupe.js';
import type { AlertSink } from './alert-sink.js';
import { SinkQueue, type AlertObserver, type SinkQueueOptions } from './sink-queue.js';

export interface AlertOptions extends SinkQueueOptions {
  /** Default 10 minutes. */
  dedupeWindowMs?: number;
}

export interface SinkStatus {
  sink: string;
  pending: number;
  sent: number;
  dropped: number;
  lastError?: string;
}

export class AlertDispatcher {
  private readonly queues: SinkQueue[];
  private readonly dedupe: AlertDedupe;

  constructor(
    sinks: readonly AlertSink[],
    options: AlertOptions = {},
    private readonly observer?: AlertObserver,
    warn?: (line: string) => void,
    /** Deduplication's clock, ms since the epoch. */
    private readonly clock: () => number = Date.now,
  ) {
    this.queues = sinks.map((s) => new SinkQueue(s, options, observer, warn));
    this.dedupe = new AlertDedupe(options.dedupeWindowMs ?? 600_000);
  }

  get sinkCount(): number {
    return this.queues.length;
  }

  offer(findings: readonly Finding[]): void {
    if (this.queues.length === 0 || findings.length === 0) return;
    const now = this.clock();
    const fresh = findings.filter((f) => this.dedupe.admit(f, now));
    if (fresh.length < findings.length) this.observer?.deduplicated(findings.length - fresh.length);
    if (fresh.length === 0) return;
    for (const q of this.queues) q.offer(fresh);
  }

  status(): SinkStatus[] {
    return this.queues.map((q) => {
      const s: SinkStatus = { sink: q.sink.name, pending: q.pending, sent: q.sent, dropped: q.dropped };
      if (q.lastError !== undefined) s.lastError = q.lastError;
      return s;
    });
  }

  /** Resolves when every queue has sent (or dropped) what it held (tests). */
  async idle(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.idle()));
  }

  /** Gives the queues up to `timeoutMs` to deliver what they hold. */
  async close(timeoutMs: number): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close(timeoutMs)));
  }
}
