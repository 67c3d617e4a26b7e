/**
 * The collector's intake: what a receiver accepted is split by trace-id partition and published to
 * JetStream, one message per partition, and `accept` resolves only once JetStream acknowledged every
 * one (stored, replicated when the stream has replicas): only then does the receiver answer 2xx.
 *
 * Refusals: NATS not reached yet or lost → 503 `broker_unavailable`; the stream at its limits (the
 * ingesters are behind) → 429 `stream_full`; both with Retry-After. A batch may be refused after
 * some of its partitions were acknowledged: the sender's retry publishes them again, and storage is
 * idempotent (a span stored twice reads once), so nothing shows twice.
 */
import type { Span } from '@linktrace/model';
import { ApiError } from '../errors.js';
import type { SpanIntake } from '../ingest/receive.js';
import { spansSubject } from './jetstream-names.js';
import type { NatsLink } from './nats-link.js';
import { splitByPartition } from './partitions.js';
import type { RoleMetrics } from './role-metrics.js';
import { encodeSpanMessage } from './span-message.js';

export interface IntakeOptions {
  link: NatsLink;
  metrics: RoleMetrics;
  publishTimeoutMs: number;
  retryAfterSeconds: number;
  clock: () => number;
}

/** JetStream's answers when the stream is at a limit (discard new): bytes, messages, or the server's resources. */
const FULL = /maximum (bytes|messages|msgs)|resource limits exceeded|insufficient resources/i;

/** A publish failure in words: JetStream's own description when it answered (the client's message is only its status, e.g. "503"). */
function describe(reason: unknown): string {
  const message = reason instanceof Error ? reason.message : String(reason);
  const api = (reason as { api_error?: { description?: string; err_code?: number } } | undefined)?.api_error;
  return api?.description === undefined ? message : `${api.description}, JetStream error ${api.err_code ?? message}`;
}

export class JetStreamIntake implements SpanIntake {
  private inFlight = 0;

  constructor(private readonly options: IntakeOptions) {}

  /** Spans being published (awaiting JetStream's acknowledgement), for the `linktrace_queue_spans` gauge. */
  get pendingSpans(): number {
    return this.inFlight;
  }

  yieldToQueries(): undefined {
    return undefined;
  }

  refuseEarly(): ApiError | undefined {
    const why = this.options.link.reason();
    return why === undefined ? undefined : this.unavailable(why);
  }

  private unavailable(why: string): ApiError {
    return new ApiError('broker_unavailable', `the collector cannot publish to NATS JetStream (${why}); nothing was acknowledged, retry later`, {
      'retry-after': String(this.options.retryAfterSeconds),
    });
  }

  async accept(_tag: number, _payload: Buffer, spans: Span[]): Promise<void> {
    const linked = this.options.link.current;
    const why = this.options.link.reason();
    if (linked === undefined || why !== undefined) throw this.unavailable(why ?? 'not connected');
    const arrivedUs = this.options.clock() * 1000;
    const parts = splitByPartition(spans, linked.layout.partitions);
    this.inFlight += spans.length;
    try {
      const results = await Promise.allSettled(
        [...parts].map(([partition, list]) => {
          const { data, headers } = encodeSpanMessage(list, arrivedUs);
          return linked.js.publish(spansSubject(partition), data, { headers, timeout: this.options.publishTimeoutMs });
        }),
      );
      let failure: string | undefined;
      let acked = 0;
      for (const r of results) {
        if (r.status === 'fulfilled') acked++;
        else failure ??= describe(r.reason);
      }
      this.options.metrics.publishedMessages(acked);
      if (failure === undefined) return;
      const retry = { 'retry-after': String(this.options.retryAfterSeconds) };
      if (FULL.test(failure)) {
        this.options.metrics.publishFailure('stream_full');
        throw new ApiError('stream_full', `NATS JetStream refused the spans: the stream is full (${failure}); the ingesters are behind, retry later`, retry);
      }
      this.options.metrics.publishFailure('unavailable');
      throw new ApiError('broker_unavailable', `NATS JetStream did not acknowledge the spans (${failure}); retry later`, retry);
    } finally {
      this.inFlight -= spans.length;
    }
  }
}
