/**
 * One sink's delivery: a bounded queue of findings, sent in batches by one worker, at most
 * `sendsPerMinute` sends (token bucket with a small burst). Findings that do not fit the queue, and
 * batches the sink failed to deliver, are dropped and counted: alerting never holds the checker back.
 */
import type { Finding } from '@linktrace/storage';
import type { AlertSink } from './alert-sink.js';

export interface SinkQueueOptions {
  /** Findings waiting per sink. Default 1000. */
  maxQueue?: number;
  /** Findings per send. Default 100. */
  maxBatch?: number;
  /** Default 30. */
  sendsPerMinute?: number;
  /** Sends allowed at once after a quiet time. Default 5. */
  burst?: number;
}

export interface AlertObserver {
  sent(sink: string, findings: number): void;
  dropped(sink: string, reason: 'queue_full' | 'failed' | 'shutdown', findings: number): void;
  deduplicated(findings: number): void;
}

export class SinkQueue {
  private queue: Finding[] = [];
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly msPerToken: number;
  private readonly burst: number;
  private tokens: number;
  private refilledMs: number;
  private working: Promise<void> | undefined;
  private stopped = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  sent = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(
    readonly sink: AlertSink,
    options: SinkQueueOptions = {},
    private readonly observer?: AlertObserver,
    private readonly warn: (line: string) => void = () => {},
  ) {
    this.maxQueue = options.maxQueue ?? 1000;
    this.maxBatch = options.maxBatch ?? 100;
    this.msPerToken = 60_000 / (options.sendsPerMinute ?? 30);
    this.burst = options.burst ?? 5;
    this.tokens = this.burst;
    this.refilledMs = Date.now();
  }

  get pending(): number {
    return this.queue.length;
  }

  offer(findings: readonly Finding[]): void {
    if (this.stopped) return;
    const room = Math.max(0, this.maxQueue - this.queue.length);
    const take = Math.min(room, findings.length);
    for (let i = 0; i < take; i++) this.queue.push(findings[i]!);
    if (take < findings.length) this.drop('queue_full', findings.length - take);
    if (take > 0) this.working ??= this.work();
  }

  /** Resolves once the worker has emptied the queue (sent, or dropped as failed). */
  async idle(): Promise<void> {
    while (this.working !== undefined) await this.working;
  }

  /** Waits until the queue is empty, at most `timeoutMs`; then stops (what is left is dropped). */
  async close(timeoutMs: number): Promise<void> {
    if (this.working !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.working, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    this.wake?.();
    if (this.queue.length > 0) this.drop('shutdown', this.queue.length);
    this.queue = [];
  }

  private drop(reason: 'queue_full' | 'failed' | 'shutdown', n: number): void {
    this.dropped += n;
    this.observer?.dropped(this.sink.name, reason, n);
  }

  private async work(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      await this.takeToken();
      if (this.stopped) break;
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.sink.send(batch);
        this.sent += batch.length;
        this.lastError = undefined;
        this.observer?.sent(this.sink.name, batch.length);
      } catch (error) {
        this.lastError = (error as Error).message;
        this.drop('failed', batch.length);
        this.warn(`alerts: ${this.sink.name}: ${batch.length} findings not delivered: ${this.lastError}`);
      }
    }
    this.working = undefined;
  }

  private async takeToken(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledMs) / this.msPerToken);
      this.refilledMs = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.wakeTimer = setTimeout(resolve, Math.ceil((1 - this.tokens) * this.msPerToken));
        this.wakeTimer.unref();
      });
      this.wake = undefined;
      if (this.stopped) return;
    }
  }
}
