import type { Span } from '@linktrace/model';
import type { SpanProcessor } from '../types.js';
import { settleCall } from './guard.js';

/** Told which processor call threw and what; by default nothing is said (the call is still skipped). */
export type ProcessorErrorHandler = (where: string, error: unknown) => void;

const IGNORE: ProcessorErrorHandler = () => {};

/** Fans spans out to several processors; one failing processor does not stop the others. */
export class MultiSpanProcessor implements SpanProcessor {
  constructor(
    private readonly processors: readonly SpanProcessor[],
    private readonly onError: ProcessorErrorHandler = IGNORE,
  ) {}

  onStart(span: Span, startRecord: boolean): void {
    for (const processor of this.processors) {
      try {
        processor.onStart(span, startRecord);
      } catch (error) {
        // A processor must never break the traced code path.
        this.report('span processor onStart', error);
      }
    }
  }

  onEnd(span: Span): void {
    for (const processor of this.processors) {
      try {
        processor.onEnd(span);
      } catch (error) {
        this.report('span processor onEnd', error);
      }
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => this.settle('span processor forceFlush', () => p.forceFlush())));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => this.settle('span processor shutdown', () => p.shutdown())));
  }

  /** A processor's async call, with a synchronous throw or a rejection reported instead of passed on. */
  private settle(where: string, call: () => Promise<void>): Promise<void> {
    return settleCall(call, (error) => this.report(where, error));
  }

  private report(where: string, error: unknown): void {
    try {
      this.onError(where, error);
    } catch {
      // Nowhere left to report to.
    }
  }
}

export const NOOP_PROCESSOR: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
