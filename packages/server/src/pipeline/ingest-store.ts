/**
 * What the ingest side needs of a span store. Every `SpanStore` of @linktrace/storage has these
 * methods, so any backend can be passed where an IngestStore is asked for.
 */
import type { Span } from '@linktrace/model';

export interface IngestStore {
  /**
   * Resolves once the spans are durable; rejects with a `StorageInputError` for malformed spans.
   * `arrivedUs`: when the batch arrived (µs), which retention counts from; default the store's clock.
   */
  writeSpans(spans: readonly Span[], options?: { arrivedUs?: number }): Promise<void>;
  /** Used as the health check's "is the store reachable" probe. */
  stats(): Promise<{ spanRecords: number; diskBytes: number }>;
  /**
   * Retention: removes what ARRIVED before `us` (µs since the epoch, the store's clock), see
   * SpanStore.deleteBefore; `sdkDropReports` from a store that keeps them.
   */
  deleteBefore(us: number): Promise<{ spans: number; findings: number; sdkDropReports?: number }>;
  close(): Promise<void>;
  /**
   * Why a remote store cannot take writes now (its last write failed: it went away), undefined when it
   * can; ingest answers 503 meanwhile. Stores without the notion (embedded) leave it out.
   */
  unavailableReason?(): string | undefined;
  /**
   * For a store whose `writeSpans` resolves before the spans are durable (the block store with
   * deferred durability, which keeps them in memory until it writes a whole file): resolves once
   * every span of a write that resolved before the call is durable (`now`: make them so now instead
   * of when the store would). The pipeline confirms the log only then, so a crash replays exactly
   * what the store had not made durable. Used when `defersDurability` is true.
   */
  whenDurable?(now?: boolean): Promise<void>;
  /** True for a store whose resolved writes are not durable yet (see `whenDurable`); absent or false: they are. */
  readonly defersDurability?: boolean;
}

/**
 * A rejection caused by the spans themselves (the storage package's `StorageInputError`): retrying
 * cannot help. Matched by name so that ingest does not depend on the storage package's classes.
 */
export function isStoreInputError(error: unknown): boolean {
  return error instanceof Error && error.name === 'StorageInputError';
}
