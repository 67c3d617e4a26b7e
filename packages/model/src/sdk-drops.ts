/**
 * What an SDK said about the spans it lost: the latest value of the resource attribute
 * `linktrace.sdk.dropped_spans` (ATTR.droppedSpans, a cumulative counter per process) seen from one
 * service instance. Shared by the server (which records it at ingest), storage (which keeps it) and
 * analysis (which tells a hop the SDK dropped from a broken one).
 */
export interface SdkDropReport {
  service: string;
  /** `host:port`; '' when the sender named no instance. */
  instance: string;
  /** Spans that process reported it never delivered, since it started. */
  droppedSpans: number;
  /** When the server received the report, µs since the epoch. */
  reportedUs: number;
}
