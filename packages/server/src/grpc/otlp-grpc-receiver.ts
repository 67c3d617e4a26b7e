/**
 * OTLP/gRPC (`TraceService/Export`, default port 4317) with @grpc/grpc-js. The method is registered
 * with pass-through (de)serializers: grpc-js frames and inflates the message (gzip), our own protobuf
 * decoder reads it, through the same ingest path as OTLP/HTTP (limits, future-span refusal, the
 * write-ahead log, metrics with receiver `otlp-grpc`). Answers: an ExportTraceServiceResponse
 * (partial_success when spans were rejected), or the gRPC status of our error code (grpc-status.ts).
 *
 * Sizes: grpc-js applies one limit, `grpc.max_receive_message_length` (our decompressed cap), to a
 * message as framed. A gzip message is inflated by our budgeted inflate instead of grpc-js's
 * (call-guard.ts): the same cap, and the decompression budget shared with the HTTP receivers. Every
 * call's answer, grpc-js's own refusals included, is counted there too.
 */
import { Server, ServerCredentials, type Metadata, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import { Counter } from 'prom-client';
import { ApiError } from '../errors.js';
import { receive, type ReceiverContext } from '../ingest/receive.js';
import { WIRE_FORMAT } from '../ingest/wire-format.js';
import { otlpProtoResponse, partialSuccessMessage } from '../ingest/otlp-response.js';
import { GrpcStatus, toGrpcError } from './grpc-status.js';
import { callGuard } from './call-guard.js';

export const EXPORT_TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const GRPC_RECEIVER = 'otlp-grpc';

const passThrough = (bytes: Buffer): Buffer => bytes;

const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: EXPORT_TRACE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
};

export interface GrpcReceiverOptions {
  host: string;
  port: number;
  /** `authorization: Bearer <token>` required when set (app.ts tokenCheck). */
  authorized?: (header: string | undefined) => boolean;
  /** Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). Default 100. */
  maxConcurrentStreams?: number;
  /** Unexpected errors (answered INTERNAL). */
  warn: (line: string) => void;
}

export interface GrpcReceiver {
  /** The port bound (the one asked for, or the one picked for 0). */
  port: number;
  /**
   * Refuses new calls (UNAVAILABLE), lets the calls under way finish (their spans reach the log) for at
   * most `timeoutMs`, then cuts what is left and closes. Safe to call twice.
   */
  close(timeoutMs?: number): Promise<void>;
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

export async function startGrpcReceiver(ctx: ReceiverContext, options: GrpcReceiverOptions): Promise<GrpcReceiver> {
  // Registered once the port is bound: a failed start leaves the registry as it was.
  const calls = new Counter<'status' | 'code'>({
    name: 'linktrace_grpc_calls_total',
    help: 'OTLP/gRPC Export calls answered, by gRPC status and error code (empty when OK), refusals grpc-js makes itself included.',
    labelNames: ['status', 'code'],
    registers: [],
  });
  let closing = false;

  const refusal = (call: ServerUnaryCall<Buffer, Buffer>): ApiError | undefined => {
    if (closing) return new ApiError('unavailable', 'the server is shutting down', { 'retry-after': String(ctx.retryAfterSeconds ?? 1) });
    if (options.authorized !== undefined) {
      const header = firstValue(call.metadata, 'authorization');
      if (!options.authorized(header)) {
        return new ApiError('unauthorized', header === undefined ? 'this server requires authorization: Bearer <token> metadata' : 'the token is not valid');
      }
    }
    // A full backlog refuses before the message is decoded.
    return ctx.pipeline.refuseEarly();
  };

  const answerError = (callback: sendUnaryData<Buffer>, error: unknown): void => {
    let apiError: ApiError;
    if (error instanceof ApiError) apiError = error;
    else {
      options.warn(`linktrace: OTLP/gRPC: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      apiError = new ApiError('internal_error', 'an unexpected error occurred; the server log has the details');
    }
    callback(toGrpcError(apiError));
  };

  const exportTraces = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    const refused = refusal(call);
    if (refused !== undefined) return answerError(callback, refused);
    receive(ctx, GRPC_RECEIVER, WIRE_FORMAT.otlpProto, { body: call.request, headers: {} }).then(
      (result) => {
        const message = result.rejected > 0 ? partialSuccessMessage(result.errors) : '';
        callback(null, otlpProtoResponse(result.rejected, message));
      },
      (error: unknown) => answerError(callback, error),
    );
  };

  const server = new Server({
    'grpc.max_receive_message_length': ctx.limits.maxDecompressedBytes,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 100,
    // Channelz (grpc-js's per-call tracking for its admin service, which we do not serve) costs every call.
    'grpc.enable_channelz': 0,
    interceptors: [
      callGuard({
        maxDecompressedBytes: ctx.limits.maxDecompressedBytes,
        budget: ctx.decompressBudget,
        retryAfterSeconds: ctx.retryAfterSeconds ?? 1,
        answered: (status, code) => calls.inc({ status: GrpcStatus[status], code }),
      }),
    ],
  });
  server.addService(TRACE_SERVICE, { Export: exportTraces });
  const port = await new Promise<number>((resolve, reject) => {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) return resolve(bound);
      server.forceShutdown();
      reject(error);
    });
  });

  ctx.metrics.registry.registerMetric(calls);

  let closed: Promise<void> | undefined;
  const close = (timeoutMs = 30_000): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      closing = true;
      const force = setTimeout(() => server.forceShutdown(), timeoutMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));
  return { port, close };
}
