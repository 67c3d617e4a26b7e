/**
 * The names the split roles share on NATS JetStream (docs/server.md#roles). Spans travel on
 * `linktrace.spans.<partition>` in the stream LINKTRACE_SPANS; messages no role can decode are
 * parked on `linktrace.dead.<role>` in LINKTRACE_DEAD. Fixed names: every collector, ingester and
 * checker of one deployment must agree on them, and a flag per name would only let them disagree.
 */
export const SPANS_STREAM = 'LINKTRACE_SPANS';
export const SPANS_SUBJECT_PREFIX = 'linktrace.spans';
export const DEAD_STREAM = 'LINKTRACE_DEAD';
export const DEAD_SUBJECT_PREFIX = 'linktrace.dead';
/** The one durable consumer every ingester pulls from (they share its messages). */
export const INGESTER_CONSUMER = 'linktrace-ingester';

export function spansSubject(partition: number): string {
  return `${SPANS_SUBJECT_PREFIX}.${partition}`;
}

/** The durable consumer of one partition, pulled by the one checker that owns the partition. */
export function checkerConsumer(partition: number): string {
  return `linktrace-checker-${partition}`;
}

export function deadSubject(role: string): string {
  return `${DEAD_SUBJECT_PREFIX}.${role}`;
}

/** Message headers. */
export const HEADER = {
  /** The payload's encoding; a consumer parks a message whose format it does not know. */
  format: 'Linktrace-Format',
  /** When the collector accepted the batch (µs since the epoch): retention counts from it. */
  arrivedUs: 'Linktrace-Arrived-Us',
  /** On a dead letter: why it was parked, and where it came from. */
  deadReason: 'Linktrace-Dead-Reason',
  deadSubject: 'Linktrace-Dead-Subject',
  deadSequence: 'Linktrace-Dead-Sequence',
} as const;

/** The one payload format so far: the span model as native JSON (lossless, like the write-ahead log's native records). */
export const FORMAT_NATIVE_JSON = 'native-json/1';
