import { startRecordOf, type Span } from '@linktrace/model';
import type { Resource, SpanExporter, SpanProcessor } from '../types.js';
import { rateLimitedWarn, safeReport, type ErrorHandler } from './error-reporter.js';
import { exportResource } from './export-resource.js';

export interface SimpleSpanProcessorOptions {
  /** Process resource passed to the exporter; default: the span's own service and instance. */
  resource?: Resource;
  /** Told about failed exports; must not throw. Default: a rate-limited `console.warn`. */
  onError?: (error: Error) => void;
}

/**
 * Exports every span the moment it ends, one export call per span, no retries. Meant for tests,
 * debugging and the console exporter, not for production traffic (use BatchSpanProcessor).
 */
export class SimpleSpanProcessor implements SpanProcessor {
  private readonly pending = new Set<Promise<void>>();
  private readonly resource: Resource | undefined;
  private readonly onError: ErrorHandler;
  private stopped = false;
  private shutdownPromise: Promise<void> | undefined;
  private exported = 0;
  private dropped = 0;

  constructor(
    private readonly exporter: SpanExporter,
    options: SimpleSpanProcessorOptions = {},
  ) {
    this.resource = options.resource;
    this.onError = options.onError ?? rateLimitedWarn();
  }

  onStart(span: Span, startRecord: boolean): void {
    if (startRecord) this.send(startRecordOf(span));
  }

  onEnd(span: Span): void {
    this.send(span);
  }

  /** Waits for every export started so far. */
  async forceFlush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.stop();
    return this.shutdownPromise;
  }

  stats(): { exported: number; dropped: number } {
    return { exported: this.exported, dropped: this.dropped };
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    await this.forceFlush();
    try {
      await this.exporter.shutdown();
    } catch (error) {
      safeReport(this.onError, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private send(span: Span): void {
    if (this.stopped) {
      this.dropped++;
      return;
    }
    const task = this.exportOne(span);
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private async exportOne(span: Span): Promise<void> {
    // Let the caller's onEnd return before the exporter runs any code.
    await Promise.resolve();
    let error: Error;
    try {
      const result = await this.exporter.export([span], exportResource(this.resource, span, this.dropped));
      if (result.code === 'success') {
        this.exported++;
        return;
      }
      error = result.error;
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
    }
    this.dropped++;
    safeReport(this.onError, new Error(`export failed: ${error.message} (1 span dropped)`));
  }
}
