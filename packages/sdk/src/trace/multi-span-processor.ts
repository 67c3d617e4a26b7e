import type { Span } from '@linktrace/model';
import type { SpanProcessor } from '../types.js';

/** Fans spans out to several processors; one failing processor does not stop the others. */
export class MultiSpanProcessor implements SpanProcessor {
  constructor(private readonly processors: readonly SpanProcessor[]) {}

  onStart(span: Span, startRecord: boolean): void {
    for (const processor of this.processors) {
      try {
        processor.onStart(span, startRecord);
      } catch {
        // A processor must never break the traced code path.
      }
    }
  }

  onEnd(span: Span): void {
    for (const processor of this.processors) {
      try {
        processor.onEnd(span);
      } catch {
        // As above.
      }
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.allSettled(this.processors.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled(this.processors.map((p) => p.shutdown()));
  }
}

export const NOOP_PROCESSOR: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
