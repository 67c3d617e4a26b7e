import { startRecordOf, type Span } from '@linktrace/model';
import type { ExportResult, Resource, SpanExporter, SpanProcessor } from '../types.js';
import { rateLimitedWarn, safeReport, type ErrorHandler } from './error-reporter.js';
import { noteLoss, registerExitFlush, trackForExit, unregisterExitFlush, type ExitFlushable } from './exit-flush.js';
import { describeLoss, type SpanLoss } from './span-loss.js';
import { exportResource } from './export-resource.js';
import { RingQueue } from './ring-queue.js';
import { retryDelayMs, type RetryPolicy } from './retry-delay.js';

export interface BatchSpanProcessorOptions {
  /** Process resource passed to the exporter; default: service and instance of each batch's first span. */
  resource?: Resource;
  /**
   * Spans held while waiting for export; more are dropped and counted. Default 8192 (about 1.6 s of
   * 5 000 spans/s; a queued span takes ~0.5–1 KB, so a full queue holds ~4–8 MB).
   */
  maxQueueSize?: number;
  /**
   * Export calls in flight at once. The second one starts only while the queue is at least half full
   * (a backlog: the collector answers slower than spans arrive), never while a batch waits for a
   * retry, and never during a flush. Default 2; 1 = strictly one at a time, batches in order.
   */
  maxExportsInFlight?: number;
  /** Spans per export call; a full batch is exported without waiting for the timer. Default 512. */
  maxBatchSize?: number;
  /** How long a partial batch may wait before it is exported. Default 1000 ms. */
  scheduleDelayMs?: number;
  /** Longest wait for one export call; a timeout counts as retryable. Default 10 000 ms. */
  exportTimeoutMs?: number;
  /** Export attempts per batch, the first one included. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles per retry, with jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** Longest retry delay, also the cap on a server's Retry-After. Default 30 000 ms. */
  retryMaxMs?: number;
  /** Time budget of `forceFlush()` and `shutdown()`. Default 30 000 ms. */
  flushTimeoutMs?: number;
  /** Send what is queued when the event loop empties (`beforeExit`). Default true. */
  flushOnExit?: boolean;
  /** Told about failed exports and overflows; must not throw. Default: a rate-limited `console.warn`. */
  onError?: (error: Error) => void;
}

export interface BatchSpanProcessorStats {
  /** Spans waiting in the queue (not counting a batch being sent or waiting for a retry). */
  queued: number;
  /** Spans the exporter accepted. */
  exported: number;
  /** All spans that will never be delivered: the four counters below. */
  dropped: number;
  droppedQueueFull: number;
  /** Failed results, retries exhausted (a collector that is down), or still unsent when a shutdown ran out of time. */
  droppedExportFailed: number;
  droppedAfterShutdown: number;
  /** Still queued, waiting for a retry or being sent when the process exited. */
  droppedUnsentAtExit: number;
  /** Batches formed (first attempts). */
  batches: number;
  /** Further attempts on batches that got a retryable result. */
  retries: number;
}

interface Job {
  spans: Span[];
  attempts: number;
  /** Earliest time of the next attempt (epoch ms). */
  dueAt: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return v;
}

/**
 * Queues ended spans and exports them in batches from the background, one export at a time — two
 * while a backlog fills more than half the queue (see `maxExportsInFlight`).
 * `onStart`/`onEnd` only touch the in-memory queue: no I/O, no allocation beyond the queue slot, and
 * they never throw. Every timer is unref'd, so the processor never keeps a process alive on its own;
 * an awaited `forceFlush()`/`shutdown()` does, for at most its time budget.
 */
export class BatchSpanProcessor implements SpanProcessor, ExitFlushable {
  private readonly queue: RingQueue<Span>;
  private readonly maxBatchSize: number;
  private readonly exportTimeoutMs: number;
  private readonly flushTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly resource: Resource | undefined;
  private readonly onError: ErrorHandler;
  private readonly flushOnExit: boolean;

  // Monotonic counters: a flush exports what had been enqueued when it was called, not what keeps
  // arriving while it runs, so it ends even under continuous load.
  private enqueuedTotal = 0;
  private takenTotal = 0;
  /** The schedule timer asks for everything enqueued up to here to be sent, partial batches included. */
  private drainUntil = 0;

  private readonly scheduleDelayMs: number;
  private scheduleTimer: NodeJS.Timeout | undefined;
  private scheduleArmed = false;
  private overflowReported = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  private parked: Job | undefined;
  private worker: Promise<void> | undefined;
  private working = false;

  /** Queue size from which a second export may run beside the worker's (Infinity: never). */
  private readonly secondLaneAt: number;
  private secondLane: Promise<void> | undefined;
  private secondLaneImmediate: NodeJS.Immediate | undefined;

  private flushWaiters = 0;
  private flushUntil = 0;
  private flushDeadline = 0;
  /** A flush sleeps until a retry is due only if it is due before this (the exit flush never waits). */
  private flushRetryDeadline = 0;
  private finalFlush = false;

  private stopped = false;
  private shutdownPromise: Promise<void> | undefined;
  /** Set while the `beforeExit` flush runs: one attempt per batch, a retryable failure is final. */
  private exiting = false;
  /** Spans handed to the exporter whose answer has not come yet. */
  private inFlight = 0;
  private lastLossReason: string | undefined;

  private exported = 0;
  private droppedQueueFull = 0;
  private droppedExportFailed = 0;
  private droppedAfterShutdown = 0;
  private droppedUnsentAtExit = 0;
  private batches = 0;
  private retries = 0;

  constructor(
    private readonly exporter: SpanExporter,
    options: BatchSpanProcessorOptions = {},
  ) {
    const maxQueueSize = positiveInt('maxQueueSize', options.maxQueueSize, 8192);
    this.queue = new RingQueue<Span>(maxQueueSize);
    this.maxBatchSize = Math.min(maxQueueSize, positiveInt('maxBatchSize', options.maxBatchSize, 512));
    const inFlight = positiveInt('maxExportsInFlight', options.maxExportsInFlight, 2);
    if (inFlight > 2) throw new RangeError(`maxExportsInFlight must be 1 or 2, got ${String(inFlight)}`);
    this.secondLaneAt = inFlight === 2 ? Math.max(this.maxBatchSize, Math.ceil(maxQueueSize / 2)) : Infinity;
    this.scheduleDelayMs = positiveInt('scheduleDelayMs', options.scheduleDelayMs, 1000);
    this.exportTimeoutMs = positiveInt('exportTimeoutMs', options.exportTimeoutMs, 10_000);
    this.flushTimeoutMs = positiveInt('flushTimeoutMs', options.flushTimeoutMs, 30_000);
    this.retry = {
      maxAttempts: positiveInt('maxAttempts', options.maxAttempts, 5),
      baseMs: positiveInt('retryBaseMs', options.retryBaseMs, 500),
      maxMs: positiveInt('retryMaxMs', options.retryMaxMs, 30_000),
    };
    this.resource = options.resource;
    this.onError = options.onError ?? rateLimitedWarn();
    this.flushOnExit = options.flushOnExit ?? true;
    if (this.flushOnExit) registerExitFlush(this);
    else trackForExit(this);
  }

  onStart(span: Span, startRecord: boolean): void {
    // The live span keeps changing until it ends: queue a copy (field by field: live spans are class
    // instances whose shared fields are getters) frozen as a start record.
    if (startRecord) this.enqueue(startRecordOf(span));
  }

  onEnd(span: Span): void {
    this.enqueue(span);
  }

  forceFlush(): Promise<void> {
    if (this.shutdownPromise !== undefined) return this.shutdownPromise;
    return this.flush(this.flushTimeoutMs, true);
  }

  /** Sends what is queued (within the flush budget), then shuts the exporter down. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.stop();
    return this.shutdownPromise;
  }

  stats(): BatchSpanProcessorStats {
    return {
      queued: this.queue.size,
      exported: this.exported,
      dropped: this.droppedTotal(),
      droppedQueueFull: this.droppedQueueFull,
      droppedExportFailed: this.droppedExportFailed,
      droppedAfterShutdown: this.droppedAfterShutdown,
      droppedUnsentAtExit: this.droppedUnsentAtExit,
      batches: this.batches,
      retries: this.retries,
    };
  }

  /** @internal Called by the shared `beforeExit` listener. */
  onBeforeExit(): void {
    if (this.stopped || this.exiting || (this.queue.size === 0 && this.parked === undefined)) return;
    // One attempt per batch, the one waiting for a retry included (its unref'd timer would never
    // fire): a process on its way out should not sit through backoff delays. What still fails is
    // lost and counted as such.
    this.exiting = true;
    if (this.parked !== undefined) this.parked.dueAt = 0;
    this.clearRetryTimer();
    void this.flush(this.exportTimeoutMs, false).finally(() => {
      this.exiting = false;
    });
  }

  /**
   * @internal Called by the shared `exit` listener: whatever is still held (queued, waiting for a
   * retry, in flight) will never be delivered. Returns what this processor lost over its life.
   */
  onExit(): SpanLoss {
    const unsent = this.queue.size + (this.parked?.spans.length ?? 0) + this.inFlight;
    if (unsent > 0) {
      this.droppedUnsentAtExit += unsent;
      this.lastLossReason ??= 'process exited before they were sent';
    }
    return this.loss();
  }

  /** @internal Where the exit summary of this processor's losses is reported. */
  get lossReporter(): ErrorHandler {
    return this.onError;
  }

  private loss(): SpanLoss {
    return {
      queueFull: this.droppedQueueFull,
      exportFailed: this.droppedExportFailed,
      afterShutdown: this.droppedAfterShutdown,
      unsentAtExit: this.droppedUnsentAtExit,
      lastReason: this.lastLossReason,
    };
  }

  private enqueue(span: Span): void {
    if (this.stopped) {
      if (this.droppedAfterShutdown++ === 0) noteLoss(this);
      return;
    }
    if (!this.queue.push(span)) {
      this.droppedQueueFull++;
      // Once per export cycle, not once per span: this is the caller's hot path.
      if (!this.overflowReported) {
        this.overflowReported = true;
        this.reportLoss(`span queue full (${this.queue.capacity} spans): dropping spans`);
      }
      return;
    }
    this.enqueuedTotal++;
    if (this.queue.size >= this.maxBatchSize) {
      // Never export inside the caller's onEnd: hand the work to the next turn of the event loop.
      // While a batch waits for its retry, nothing can be sent: no wake-up per span.
      if (!this.working) {
        if (this.immediate === undefined && this.parked === undefined) this.immediate = setImmediate(this.onImmediate);
      } else if (this.queue.size >= this.secondLaneAt && this.secondLane === undefined && this.secondLaneImmediate === undefined && this.parked === undefined) {
        // The worker's export is slower than spans arrive: send the next batch beside it.
        this.secondLaneImmediate = setImmediate(this.onSecondLaneImmediate);
      }
    } else if (!this.scheduleArmed) {
      this.armScheduleTimer();
    }
  }

  private armScheduleTimer(): void {
    this.scheduleArmed = true;
    if (this.scheduleTimer === undefined) {
      this.scheduleTimer = setTimeout(this.onScheduleTimer, this.scheduleDelayMs);
      this.scheduleTimer.unref();
    } else {
      // A fired timer is re-armed in place: no timer allocation per batch.
      this.scheduleTimer.refresh();
    }
  }

  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    void this.runWorker();
  };

  private readonly onSecondLaneImmediate = (): void => {
    this.secondLaneImmediate = undefined;
    if (this.secondLane !== undefined) return;
    const lane = this.runSecondLane();
    this.secondLane = lane;
    void lane.finally(() => {
      if (this.secondLane === lane) this.secondLane = undefined;
    });
  };

  /** Sends batches beside the worker while the backlog lasts; gives way to a retry, a flush or shutdown. */
  private async runSecondLane(): Promise<void> {
    while (!this.stopped && this.flushWaiters === 0 && this.parked === undefined && this.working && this.queue.size >= this.secondLaneAt) {
      const spans = this.queue.take(this.maxBatchSize);
      this.takenTotal += spans.length;
      await this.send({ spans, attempts: 0, dueAt: Date.now() });
    }
  }

  private readonly onScheduleTimer = (): void => {
    this.scheduleArmed = false;
    this.drainUntil = this.enqueuedTotal;
    void this.runWorker();
  };

  private readonly onRetryTimer = (): void => {
    this.retryTimer = undefined;
    // Timers may fire a millisecond before Date.now() reaches dueAt: the timer is the authority.
    if (this.parked !== undefined) this.parked.dueAt = 0;
    void this.runWorker();
  };

  private async flush(budgetMs: number, waitForRetries: boolean): Promise<void> {
    const deadline = Date.now() + budgetMs;
    this.flushUntil = this.enqueuedTotal;
    this.flushDeadline = Math.max(this.flushDeadline, deadline);
    if (waitForRetries) this.flushRetryDeadline = Math.max(this.flushRetryDeadline, deadline);
    this.flushWaiters++;
    try {
      await this.runWorker();
      // A batch the second lane took before the flush began is part of what the flush promised.
      if (this.secondLane !== undefined) {
        await this.secondLane;
        await this.runWorker();
      }
    } finally {
      if (--this.flushWaiters === 0) this.flushDeadline = this.flushRetryDeadline = 0;
    }
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    this.finalFlush = true;
    clearTimeout(this.scheduleTimer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.secondLaneImmediate !== undefined) clearImmediate(this.secondLaneImmediate);
    this.secondLaneImmediate = undefined;
    unregisterExitFlush(this);
    await this.flush(this.flushTimeoutMs, true);
    this.clearRetryTimer();
    try {
      await this.exporter.shutdown();
    } catch (error) {
      safeReport(this.onError, asError(error, 'exporter shutdown failed'));
    }
  }

  /** Starts the single export loop, or joins the one that runs. */
  private runWorker(): Promise<void> {
    if (this.worker !== undefined) return this.worker;
    this.working = true;
    const run = this.work();
    // work() clears `working` synchronously when it finds nothing to do; only a loop that is still
    // running may be joined, or a later wake-up would be lost.
    if (this.working) this.worker = run;
    return run;
  }

  private async work(): Promise<void> {
    for (;;) {
      const step = this.nextStep();
      if (step === undefined) break;
      if (typeof step === 'number') await sleep(step);
      else await this.send(step);
    }
    this.working = false;
    this.worker = undefined;
    this.afterIdle();
  }

  /** The next batch to send, a wait (ms) before a retry that a flush is waiting for, or nothing. */
  private nextStep(): Job | number | undefined {
    const now = Date.now();
    const flushing = this.flushWaiters > 0;
    const parked = this.parked;
    if (parked !== undefined) {
      if (parked.dueAt <= now) {
        this.parked = undefined;
        this.clearRetryTimer();
        return parked;
      }
      if (!flushing) return undefined;
      if (parked.dueAt <= this.flushRetryDeadline) return parked.dueAt - now;
      // Backing off is what the server asked for: a flush does not skip it. Only shutdown gives up.
      if (!this.finalFlush) return undefined;
      this.parked = undefined;
      this.clearRetryTimer();
      this.dropFailed(parked.spans.length, new Error('shutdown before a batch could be retried'));
    }
    const size = this.queue.size;
    if (size === 0) return undefined;
    if (flushing) {
      if (this.takenTotal >= this.flushUntil) return undefined;
      if (now >= this.flushDeadline) {
        if (this.finalFlush) {
          const left = this.queue.take(size).length;
          this.takenTotal += left;
          this.dropFailed(left, new Error('shutdown ran out of time'));
        }
        return undefined;
      }
    } else if (size < this.maxBatchSize && this.takenTotal >= this.drainUntil) {
      return undefined;
    }
    const spans = this.queue.take(this.maxBatchSize);
    this.takenTotal += spans.length;
    return { spans, attempts: 0, dueAt: now };
  }

  private afterIdle(): void {
    if (this.stopped || this.parked !== undefined || this.immediate !== undefined) return;
    // A flush stops at its own target; a backlog that built up meanwhile goes on in the background.
    if (this.queue.size >= this.maxBatchSize || (this.queue.size > 0 && this.takenTotal < this.drainUntil)) {
      this.immediate = setImmediate(this.onImmediate);
    }
  }

  private async send(job: Job): Promise<void> {
    this.overflowReported = false;
    if (job.attempts++ === 0) this.batches++;
    else this.retries++;
    const flushing = this.flushWaiters > 0;
    const timeoutMs = flushing
      ? Math.max(1, Math.min(this.exportTimeoutMs, this.flushDeadline - Date.now()))
      : this.exportTimeoutMs;
    const resource = exportResource(this.resource, job.spans[0] as Span, this.droppedTotal());
    this.inFlight += job.spans.length;
    let result: ExportResult;
    try {
      result = await this.exportOnce(job.spans, resource, timeoutMs, flushing);
    } finally {
      this.inFlight -= job.spans.length;
    }
    if (result.code === 'success') {
      this.exported += job.spans.length;
      return;
    }
    if (result.code === 'failed' || job.attempts >= this.retry.maxAttempts || this.exiting) {
      const why =
        result.code === 'failed'
          ? 'export failed'
          : this.exiting
            ? 'export failed as the process exits'
            : `export failed after ${job.attempts} attempts`;
      this.dropFailed(job.spans.length, new Error(`${why}: ${result.error.message}`));
      return;
    }
    const delay = retryDelayMs(this.retry, job.attempts, result.retryAfterMs);
    const waiting = this.parked;
    if (waiting !== undefined) {
      // The other lane's batch already waits for a retry: this one joins it (same server, same
      // trouble) rather than a second backoff schedule. Only two lanes, so at most two batches' worth.
      for (const span of job.spans) waiting.spans.push(span);
      return;
    }
    job.dueAt = Date.now() + delay;
    this.parked = job;
    this.clearRetryTimer();
    this.retryTimer = setTimeout(this.onRetryTimer, delay);
    this.retryTimer.unref();
  }

  /** The exporter's promise raced against a timeout; a contract-breaking throw becomes a failed result. */
  private exportOnce(spans: Span[], resource: Resource, timeoutMs: number, holdProcess: boolean): Promise<ExportResult> {
    return new Promise<ExportResult>((resolve) => {
      let settled = false;
      const finish = (result: ExportResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(validResult(result));
      };
      const timer = setTimeout(() => {
        finish({ code: 'retryable', error: new Error(`export timed out after ${timeoutMs} ms`) });
      }, timeoutMs);
      // Someone awaiting a flush keeps the process up until the answer or the timeout; otherwise not.
      if (!holdProcess) timer.unref();
      try {
        this.exporter.export(spans, resource).then(finish, (error: unknown) => {
          finish({ code: 'failed', error: asError(error, 'exporter rejected') });
        });
      } catch (error) {
        finish({ code: 'failed', error: asError(error, 'exporter threw') });
      }
    });
  }

  private dropFailed(count: number, error: Error): void {
    this.droppedExportFailed += count;
    this.reportLoss(`${error.message} (${count} spans dropped)`);
  }

  /**
   * One report line per loss event, which also says what was lost so far by cause: a rate-limited
   * handler that prints one line a minute still shows failed exports beside a full queue.
   */
  private reportLoss(what: string): void {
    this.lastLossReason = what;
    noteLoss(this);
    safeReport(this.onError, new Error(`${what}; lost so far: ${describeLoss(this.loss())}`));
  }

  private droppedTotal(): number {
    return this.droppedQueueFull + this.droppedExportFailed + this.droppedAfterShutdown + this.droppedUnsentAtExit;
  }

  private clearRetryTimer(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** An exporter's result as the contract says it is; anything else (null, a string, no code) is a failure. */
function validResult(result: unknown): ExportResult {
  if (result !== null && typeof result === 'object') {
    const { code, error } = result as { code?: unknown; error?: unknown };
    if (code === 'success') return result as ExportResult;
    if ((code === 'retryable' || code === 'failed') && error instanceof Error) return result as ExportResult;
    if (code === 'retryable' || code === 'failed') return { code, error: asError(error, 'exporter failed') };
  }
  return { code: 'failed', error: new Error(`exporter returned ${describeValue(result)} instead of an export result`) };
}

function describeValue(value: unknown): string {
  try {
    return typeof value === 'object' && value !== null ? 'an object without a valid code' : String(value);
  } catch {
    return 'an unprintable value';
  }
}

function asError(value: unknown, context: string): Error {
  return value instanceof Error ? value : new Error(`${context}: ${describeValue(value)}`);
}
