/**
 * What grpc-js does to a call before (and instead of) our handler, brought under the server's rules
 * by a server interceptor on each call grpc-js makes:
 *
 * - **Every answer counted.** grpc-js ends some calls itself: a message over
 *   `grpc.max_receive_message_length` (RESOURCE_EXHAUSTED at the framing), an unsupported
 *   `grpc-encoding` (UNIMPLEMENTED), a deadline passed, a broken frame. Those never reach the handler,
 *   so the status every call ends with is counted here, once, whoever sent it
 *   (`linktrace_grpc_calls_total{status,code}`), with our error code when the answer carries one
 *   (`linktrace-error-code`) and otherwise the code of our table that means the same (`grpcJsCode`).
 *   Their spans cannot be counted: the message was never decoded (as for an HTTP body refused 413).
 * - **Compressed messages inflate under the shared budget** (`--max-decompressing`). grpc-js inflates a
 *   gzip message itself, into memory, bounded only by the per-message limit; the interceptor replaces
 *   that step on the call with `gunzipBudgeted`, the HTTP receivers' streaming inflate: the per-message
 *   cap (payload_too_large) and the budget shared with every HTTP body (decompress_busy with RetryInfo,
 *   refused before inflating), the budget held until the call is answered (its decoding included).
 *   Deflate, which OTLP exporters do not send, is inflated by grpc-js after reserving the per-message
 *   limit from the same budget (the most it can take), so it is bounded too.
 *
 * The step replaced is grpc-js's call object's `decompressMessage` (its own method, called through
 * `this`): an internal of grpc-js 1.14, checked when the interceptor is made (`hooksAvailable`); the
 * tests in grpc-receiver.test.ts (bomb, budget, counted refusals) fail if a grpc-js update moves it.
 */
import { Metadata, ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';

/** A status as grpc-js's calls pass it (its own `PartialStatusObject`, not exported). */
type CallStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata | null };
import { ApiError } from '../errors.js';
import type { ByteBudget } from '../ingest/byte-budget.js';
import { DecompressError, gunzipBudgeted } from '../ingest/decompress.js';
import { GrpcStatus, toGrpcError } from './grpc-status.js';

/** The parts of grpc-js's base call object the guard replaces (see the file comment). */
interface BaseCallInternals {
  decompressMessage(message: Buffer, encoding: string): Buffer | Promise<Buffer>;
  sendStatus(status: CallStatus): void;
}

function hooksAvailable(call: ServerInterceptingCallInterface): call is ServerInterceptingCallInterface & BaseCallInternals {
  return typeof (call as Partial<BaseCallInternals>).decompressMessage === 'function';
}

/** gRPC's message prefix: compressed flag and length; `decompressMessage` is given the whole frame. */
const FRAME_HEADER_BYTES = 5;

/** Our error code for a status grpc-js sent itself (it carries none): what the same refusal is called over HTTP. */
export function grpcJsCode(status: CallStatus): string {
  switch (status.code) {
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 'payload_too_large';
    case GrpcStatus.UNIMPLEMENTED:
      return 'unsupported_encoding';
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'request_timeout';
    case GrpcStatus.INTERNAL:
      return /decompress/i.test(status.details) ? 'invalid_encoding' : 'internal_error';
    default:
      return '';
  }
}

export interface CallGuardOptions {
  /** The per-message cap (grpc.max_receive_message_length), decompressed bytes. */
  maxDecompressedBytes: number;
  /** Shared with the HTTP receivers; none: unbounded across calls. */
  budget?: ByteBudget;
  retryAfterSeconds: number;
  /** Called once per call with the status it ended with and the error code ('' when OK or unknown). */
  answered(status: GrpcStatus, code: string): void;
}

function statusOf(error: ApiError): CallStatus {
  const answer = toGrpcError(error);
  return { code: answer.code, details: answer.details, metadata: answer.metadata };
}

function asApiError(error: DecompressError, retryAfterSeconds: number): ApiError {
  if (error.kind === 'busy') return new ApiError('decompress_busy', error.message, { 'retry-after': String(retryAfterSeconds) });
  return new ApiError(error.kind === 'too_large' ? 'payload_too_large' : error.kind === 'corrupt' ? 'invalid_encoding' : 'unsupported_encoding', error.message);
}

export function callGuard(options: CallGuardOptions): ServerInterceptor {
  return (_method, call) => {
    let counted = false;
    let ended = false;
    let release: (() => void) | undefined;
    const done = (): void => {
      ended = true;
      release?.();
      release = undefined;
    };
    /** Holds budget until the call ends (at once if it already has: cut while inflating). */
    const hold = (give: () => void): void => {
      if (ended) give();
      else release = give;
    };
    if (hooksAvailable(call)) {
      const send = call.sendStatus.bind(call);
      call.sendStatus = (status) => {
        done();
        if (!counted) {
          counted = true;
          const own = status.metadata instanceof Metadata ? status.metadata.get('linktrace-error-code')[0] : undefined;
          const code = status.code === GrpcStatus.OK ? '' : typeof own === 'string' ? own : grpcJsCode(status);
          options.answered(status.code, code);
        }
        send(status);
      };
      const inflate = call.decompressMessage.bind(call);
      call.decompressMessage = async (message, encoding) => {
        if (encoding === 'identity') return inflate(message, encoding);
        const { budget } = options;
        if (encoding === 'gzip') {
          try {
            const inflated = await gunzipBudgeted(message.subarray(FRAME_HEADER_BYTES), options.maxDecompressedBytes, budget);
            hold(inflated.release);
            return inflated.bytes;
          } catch (error) {
            // grpc-js answers a rejection from here with sendStatus(rejection).
            throw error instanceof DecompressError ? statusOf(asApiError(error, options.retryAfterSeconds)) : error;
          }
        }
        // Deflate (or an encoding grpc-js refuses itself): reserve the most it can inflate to.
        const reserve = options.maxDecompressedBytes;
        if (budget !== undefined) {
          if (!budget.tryTake(reserve)) {
            throw statusOf(
              new ApiError('decompress_busy', `too many compressed messages are being decompressed at once (${budget.inUse} of ${budget.capacity} bytes in use); retry later`, {
                'retry-after': String(options.retryAfterSeconds),
              }),
            );
          }
          let given = false;
          hold(() => {
            if (given) return;
            given = true;
            budget.give(reserve);
          });
        }
        return inflate(message, encoding);
      };
    }
    // A call cut by its client ends without a status: give its budget back then.
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: done }),
    });
  };
}
