import { startRecordOf, type Span } from '@linktrace/model';
import type { SpanProcessor } from '../types.js';

/** Keeps ended spans (and start records) in memory: for tests of code that is traced. */
export class CollectingSpanProcessor implements SpanProcessor {
  readonly spans: Span[] = [];
  readonly startRecords: Span[] = [];

  onStart(span: Span, startRecord: boolean): void {
    if (startRecord) this.startRecords.push(startRecordOf(span));
  }

  onEnd(span: Span): void {
    this.spans.push(span);
  }

  byName(name: string): Span {
    const span = this.spans.find((s) => s.name === name);
    if (span === undefined) throw new Error(`no ended span named ${name}; have: ${this.spans.map((s) => s.name).join(', ')}`);
    return span;
  }

  clear(): void {
    this.spans.length = 0;
    this.startRecords.length = 0;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
