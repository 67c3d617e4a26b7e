/**
 * Imports straight into a SpanStore. The store refuses a whole batch when one span is malformed;
 * the spans then go one by one so that only the bad ones are lost.
 */
import type { Span } from '@linktrace/model';
import { StorageInputError, type SpanStore } from '@linktrace/storage';
import type { SinkResult, SpanSink } from './span-sink.js';

const MAX_ERRORS = 5;

export class StoreSink implements SpanSink {
  constructor(
    private readonly store: SpanStore,
    readonly target: string,
    private readonly closeStore = true,
  ) {}

  async write(spans: readonly Span[]): Promise<SinkResult> {
    try {
      await this.store.writeSpans(spans);
      return { accepted: spans.length, rejected: 0, errors: [] };
    } catch (err) {
      if (!(err instanceof StorageInputError)) throw err;
    }
    const result: SinkResult = { accepted: 0, rejected: 0, errors: [] };
    for (const span of spans) {
      try {
        await this.store.writeSpans([span]);
        result.accepted++;
      } catch (err) {
        if (!(err instanceof StorageInputError)) throw err;
        result.rejected++;
        if (result.errors.length < MAX_ERRORS) result.errors.push(`span ${span.spanId}: ${err.message}`);
      }
    }
    return result;
  }

  close(): Promise<void> {
    return this.closeStore ? this.store.close() : Promise.resolve();
  }
}
