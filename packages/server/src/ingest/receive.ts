/**
 * The one ingest path every receiver shares: decompress (capped per request and by the budget shared
 * across requests), decode once, refuse spans starting too far in the future, check the limits, then
 * hand the decoded spans and the body as it arrived to the pipeline (log first, store later).
 */
import type { FastifyRequest } from 'fastify';
import { MAX_DECODE_ERRORS, REJECT_REASONS, encodeNativeJson, type DecodeResult, type RejectReason, type Span } from '@linktrace/model';
import { ApiError, type ErrorCode } from '../errors.js';
import type { IngestLimits } from '../config.js';
import type { ServerMetrics } from '../metrics.js';
import { DecompressError, gunzipBudgeted, isGzipEncoding } from './decompress.js';
import type { ByteBudget } from './byte-budget.js';
import { GZIP_FLAG, PayloadError, WIRE_FORMAT, decodeBody, type WireFormat } from './wire-format.js';
import { FUTURE_START_REASON, refuseFutureSpans } from './future-spans.js';
import { checkSpanLimits, splitBySpanLimits } from './span-limits.js';
import type { RefusalLog } from './refusal-log.js';

/**
 * Where a receiver hands what it accepted: serve's pipeline (write-ahead log, then the store) or the
 * collector role's JetStream publisher (roles/). `accept` resolves once the spans are durable there:
 * only then does the receiver answer 2xx.
 */
export interface SpanIntake {
  /** Queries under way go first (serve); undefined when there is nothing to wait for. */
  yieldToQueries(): Promise<void> | undefined;
  accept(tag: number, payload: Buffer, spans: Span[]): Promise<void>;
  /** The refusal to answer before a body is read (full backlog, store or broker down); undefined to go on. */
  refuseEarly(): ApiError | undefined;
}

export interface ReceiverContext {
  limits: IngestLimits;
  pipeline: SpanIntake;
  metrics: ServerMetrics;
  /** Names refusals the protocol cannot report to the sender (Zipkin's bare 202). */
  refusals: RefusalLog;
  /** Shared by every request that decompresses a body (limits.maxDecompressingBytes); none: unbounded across requests. */
  decompressBudget?: ByteBudget;
  /** `Retry-After` seconds when the decompression budget is spent. Default 1. */
  retryAfterSeconds?: number;
  /** The server's clock, ms since the epoch (tests inject one). Default Date.now. */
  clock?: () => number;
}

export interface Received {
  accepted: number;
  rejected: number;
  /** `rejected` by reason: the decoders' reasons, the limits' codes, `future_start`. */
  rejectedBy: Record<RejectReason | typeof FUTURE_START_REASON, number>;
  /** The decoder's messages for rejected spans (at most a few). */
  errors: string[];
}

const EMPTY = Buffer.alloc(0);

/**
 * What `receive` reads of a request: its raw body and Content-Encoding. A Fastify request is one; the
 * gRPC receiver passes the message grpc-js has already framed and inflated, with no encoding.
 */
export interface IngestRequest {
  body: unknown;
  headers: { 'content-encoding'?: string | string[] };
}

const DECOMPRESS_CODES: Record<DecompressError['kind'], ErrorCode> = {
  unsupported: 'unsupported_encoding',
  too_large: 'payload_too_large',
  corrupt: 'invalid_encoding',
  busy: 'decompress_busy',
};

/** True when the request's Content-Type is protobuf (the parsers only let JSON or protobuf through). */
export function isProtobufRequest(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return type !== undefined && /^\s*application\/x-protobuf/i.test(type);
}

async function decode(request: IngestRequest, format: WireFormat, ctx: ReceiverContext): Promise<{ body: Buffer; gzip: boolean } & DecodeResult> {
  const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
  let release: (() => void) | undefined;
  try {
    const gzip = isGzipEncoding(request.headers['content-encoding']);
    let bytes = body;
    if (gzip) {
      const inflated = await gunzipBudgeted(body, ctx.limits.maxDecompressedBytes, ctx.decompressBudget);
      release = inflated.release;
      bytes = inflated.bytes;
    }
    // The budget stays taken while the inflated bytes are decoded: they and what they decode to are the memory it bounds.
    const result = decodeBody(format, bytes);
    return { body, gzip, ...result };
  } catch (error) {
    if (error instanceof DecompressError) {
      const headers: Record<string, string> = error.kind === 'busy' ? { 'retry-after': String(ctx.retryAfterSeconds ?? 1) } : {};
      throw new ApiError(DECOMPRESS_CODES[error.kind], error.message, headers);
    }
    if (error instanceof PayloadError) throw new ApiError(error.kind === 'json' ? 'invalid_json' : 'invalid_payload', error.message);
    throw error;
  } finally {
    release?.();
  }
}

/**
 * A receiver that applies the attribute limits span by span (its protocol cannot refuse part of a
 * request): `encode` writes the spans kept back in `format`, for the write-ahead log, whose replay
 * must not bring back the spans left out.
 */
export interface PerSpanLimits {
  encode(spans: readonly Span[]): Buffer;
}

/** Runs one ingest request through to the log; throws ApiError for every refusal. */
export async function receive(ctx: ReceiverContext, receiver: string, format: WireFormat, request: IngestRequest, perSpan?: PerSpanLimits): Promise<Received> {
  const { limits, metrics } = ctx;
  // Decoding is the largest share of the event loop's work during a flood: queries under way go first.
  const queries = ctx.pipeline.yieldToQueries();
  if (queries !== undefined) await queries;
  const d = await decode(request, format, ctx);
  const total = d.spans.length + d.rejected;
  metrics.spansReceived(receiver, total);
  for (const reason of REJECT_REASONS) metrics.spansRejected(receiver, reason, d.rejectedBy[reason]);
  let spans = d.spans;
  let tag: number = d.gzip ? format | GZIP_FLAG : format;
  let body = d.body;
  const rejectedBy: Received['rejectedBy'] = { ...d.rejectedBy, [FUTURE_START_REASON]: 0 };
  try {
    if (total > limits.maxSpansPerRequest) {
      throw new ApiError('too_many_spans', `the request holds ${total} spans; the limit is ${limits.maxSpansPerRequest}`);
    }
    const future = refuseFutureSpans(spans, (ctx.clock ?? Date.now)(), limits.maxFutureMs);
    if (future !== undefined) {
      metrics.spansRejected(receiver, FUTURE_START_REASON, future.refused);
      spans = future.kept;
      d.rejected += future.refused;
      rejectedBy[FUTURE_START_REASON] += future.refused;
      for (const e of future.errors) if (d.errors.length < MAX_DECODE_ERRORS) d.errors.push(e);
      // The log keeps what was accepted, not the body as it arrived: replaying that body later (with a
      // later clock) would bring the refused spans back. Native JSON is the model itself, lossless.
      tag = WIRE_FORMAT.nativeJson;
      body = Buffer.from(JSON.stringify(encodeNativeJson(spans)));
    }
    if (perSpan === undefined) {
      const violation = checkSpanLimits(spans, limits);
      if (violation !== undefined) throw new ApiError(violation.code, violation.message);
    } else {
      const split = splitBySpanLimits(spans, limits);
      if (split !== undefined) {
        // Every span over a limit: the request is refused with the limit's code, as on other receivers.
        if (split.kept.length === 0 && d.rejected === 0) throw new ApiError(split.refused[0]!.code, split.refused[0]!.message);
        for (const v of split.refused) {
          metrics.spansRejected(receiver, v.code, 1);
          rejectedBy[v.code]++;
          if (d.errors.length < MAX_DECODE_ERRORS) d.errors.push(v.message);
        }
        d.rejected += split.refused.length;
        spans = split.kept;
        tag = format;
        body = spans.length > 0 ? perSpan.encode(spans) : body;
      }
    }
    if (spans.length > 0) await ctx.pipeline.accept(tag, body, spans);
  } catch (error) {
    if (error instanceof ApiError) metrics.spansRejected(receiver, error.code, spans.length);
    throw error;
  }
  return { accepted: spans.length, rejected: d.rejected, rejectedBy, errors: d.errors };
}
