/** Where imported spans go: the embedded store under `--data`, or a running server (`--server`). */
import type { Span } from '@linktrace/model';

export interface SinkResult {
  accepted: number;
  rejected: number;
  /** Why spans were rejected (a few messages at most). */
  errors: string[];
}

export interface SpanSink {
  /** Human-readable destination, for the summary line. */
  readonly target: string;
  /** Resolves once the batch is stored (or refused span by span); rejects when the destination fails. */
  write(spans: readonly Span[]): Promise<SinkResult>;
  close(): Promise<void>;
}
