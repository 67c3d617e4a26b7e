/**
 * The OTLP/gRPC receiver against a raw grpc-js client and hand-made HTTP/2 streams: good messages, the
 * refusals (damaged, oversized, gzip bomb, wrong content-type, cut streams, token, full backlog) with
 * their gRPC statuses and retry info, partial success, and the server serving on after each.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { encodeOtlpProto, type Span } from '@linktrace/model';
import { ApiError, ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { grpcStatusOf, toGrpcError } from '../src/grpc/grpc-status.js';
import { get } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';
import { assertRefused, exportCall, frame, partialSuccess, rawCall, retryDelaySeconds, withGrpcApp, type RunningGrpcApp } from './grpc-helpers.js';

let traceSeq = 0x7000;

function spans(count: number): Span[] {
  const traceId = (traceSeq++).toString(16).padStart(32, '0');
  const now = Date.now() * 1000;
  return Array.from({ length: count }, (_, i) => ({
    traceId,
    spanId: (0x100 + i).toString(16).padStart(16, '0'),
    service: 'grpc-svc',
    name: `op-${i}`,
    kind: 'server' as const,
    startUs: now + i,
    durationUs: 10 + i,
    status: { code: 'unset' as const },
    attributes: { i },
    events: [],
    links: [],
  }));
}

/** A good message is still taken: the server survived what came before. */
async function assertServes(ctx: RunningGrpcApp, token?: string): Promise<void> {
  const batch = spans(3);
  const result = await exportCall(ctx.address, encodeOtlpProto(batch), { token });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  await ctx.app.linktrace.pipeline.idle();
  assert.equal(ctx.store.getTrace(batch[0]!.traceId).length, 3);
}

function grpcMessage(answer: { trailers: Record<string, unknown>; headers: Record<string, unknown> }): string {
  return decodeURIComponent(String(answer.trailers['grpc-message'] ?? answer.headers['grpc-message']));
}

describe('OTLP/gRPC receiver', () => {
  it('takes a message (plain and gzip) through the write-ahead log into the store, answers an empty response, counts it', async () => {
    await withGrpcApp({}, async (ctx) => {
      const plain = spans(5);
      const gz = spans(4);
      const a = await exportCall(ctx.address, encodeOtlpProto(plain));
      const b = await exportCall(ctx.address, encodeOtlpProto(gz), { gzip: true });
      assert.ok(a.ok && b.ok);
      assert.equal(a.response.length, 0, 'full success: an empty ExportTraceServiceResponse');
      await ctx.app.linktrace.pipeline.idle();
      assert.equal(ctx.store.getTrace(plain[0]!.traceId).length, 5);
      assert.equal(ctx.store.getTrace(gz[0]!.traceId).length, 4);
      assert.equal(ctx.app.linktrace.wal.stats().records, 2);
      const metrics = (await get(`${ctx.url}/metrics`)).body.toString('utf8');
      assert.match(metrics, /linktrace_spans_received_total\{receiver="otlp-grpc"\} 9/);
      assert.match(metrics, /linktrace_grpc_calls_total\{status="OK",code=""\} 2/);
    });
  });

  it('a damaged message: INVALID_ARGUMENT (invalid_payload), nothing stored, the server serves on', async () => {
    await withGrpcApp({}, async (ctx) => {
      const good = Buffer.from(encodeOtlpProto(spans(2)));
      for (const damaged of [Buffer.from('this is not protobuf at all \xff\xff\xff'), good.subarray(0, good.length - 7)]) {
        const error = assertRefused(await exportCall(ctx.address, damaged));
        assert.equal(error.code, GrpcStatus.INVALID_ARGUMENT);
        assert.match(error.details, /^invalid_payload: /);
        assert.equal(error.metadata.get('linktrace-error-code')[0], 'invalid_payload');
      }
      assert.equal(ctx.app.linktrace.wal.stats().records, 0);
      const metrics = (await get(`${ctx.url}/metrics`)).body.toString('utf8');
      assert.match(metrics, /linktrace_grpc_calls_total\{status="INVALID_ARGUMENT",code="invalid_payload"\} 2/);
      await assertServes(ctx);
    });
  });

  it('an oversized message: grpc-js refuses it at the framing, RESOURCE_EXHAUSTED without retry info (not retryable)', async () => {
    await withGrpcApp({ limits: { maxDecompressedBytes: 64 * 1024, maxDecompressingBytes: 64 * 1024 } }, async (ctx) => {
      const error = assertRefused(await exportCall(ctx.address, Buffer.alloc(64 * 1024 + 1, 0x0a)));
      assert.equal(error.code, GrpcStatus.RESOURCE_EXHAUSTED);
      assert.match(error.details, /larger than max/);
      assert.equal(retryDelaySeconds(error), undefined);
      assert.equal(ctx.app.linktrace.wal.stats().records, 0);
      await assertServes(ctx);
    });
  });

  it('a gzip bomb is inflated no further than the decompressed cap: RESOURCE_EXHAUSTED, the server serves on', async () => {
    await withGrpcApp({ limits: { maxDecompressedBytes: 256 * 1024, maxDecompressingBytes: 256 * 1024 } }, async (ctx) => {
      // 64 MB of zeros in ~64 KB: small on the wire (under the cap), 256 times the cap once inflated.
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      assert.ok(bomb.length < 256 * 1024);
      const answer = await rawCall(ctx.address, { 'grpc-encoding': 'gzip' }, [frame(bomb, true)]);
      assert.equal(answer.grpcStatus, GrpcStatus.RESOURCE_EXHAUSTED);
      assert.match(grpcMessage(answer), /^payload_too_large: the body decompresses to more than 262144 bytes/);
      // Damaged gzip: invalid_encoding, as over HTTP.
      const corrupt = await rawCall(ctx.address, { 'grpc-encoding': 'gzip' }, [frame(Buffer.from('not gzip data'), true)]);
      assert.equal(corrupt.grpcStatus, GrpcStatus.INVALID_ARGUMENT);
      assert.match(grpcMessage(corrupt), /^invalid_encoding: /);
      assert.equal(ctx.app.linktrace.wal.stats().records, 0);
      assert.equal(ctx.app.linktrace.decompressBudget.inUse, 0, 'the budget is given back');
      await assertServes(ctx);
    });
  });

  it('gzip messages inflate under the decompression budget shared with HTTP: refused before inflating when it is spent (RetryInfo), taken once it is free', async () => {
    await withGrpcApp({ limits: { maxDecompressedBytes: 256 * 1024, maxDecompressingBytes: 256 * 1024 } }, async (ctx) => {
      const budget = ctx.app.linktrace.decompressBudget;
      // Bodies being inflated by the HTTP receivers hold the whole budget.
      assert.ok(budget.tryTake(budget.capacity));
      const batch = spans(4);
      const busy = assertRefused(await exportCall(ctx.address, encodeOtlpProto(batch), { gzip: true }));
      assert.equal(busy.code, GrpcStatus.RESOURCE_EXHAUSTED);
      assert.match(busy.details, /^decompress_busy: /);
      assert.equal(retryDelaySeconds(busy), 1);
      // Uncompressed messages take nothing from it.
      await assertServes(ctx);
      budget.give(budget.capacity);
      const taken = await exportCall(ctx.address, encodeOtlpProto(batch), { gzip: true });
      assert.ok(taken.ok, taken.ok ? '' : taken.error.message);
      await ctx.app.linktrace.pipeline.idle();
      assert.equal(ctx.store.getTrace(batch[0]!.traceId).length, 4);
      assert.equal(budget.inUse, 0, 'a call gives its share back once answered');
      const metrics = (await get(`${ctx.url}/metrics`)).body.toString('utf8');
      assert.match(metrics, /linktrace_grpc_calls_total\{status="RESOURCE_EXHAUSTED",code="decompress_busy"\} 1/);
    });
  });

  it('refusals grpc-js makes itself are counted on /metrics with the error code HTTP gives the same refusal', async () => {
    await withGrpcApp({ limits: { maxDecompressedBytes: 64 * 1024, maxDecompressingBytes: 64 * 1024 } }, async (ctx) => {
      assertRefused(await exportCall(ctx.address, Buffer.alloc(64 * 1024 + 1, 0x0a)));
      const snappy = await rawCall(ctx.address, { 'grpc-encoding': 'snappy' }, [frame(Buffer.from('whatever'), true)]);
      assert.equal(snappy.grpcStatus, GrpcStatus.UNIMPLEMENTED);
      const deflated = await rawCall(ctx.address, { 'grpc-encoding': 'deflate' }, [frame(Buffer.from('not deflate data'), true)]);
      assert.equal(deflated.grpcStatus, GrpcStatus.INTERNAL);
      assert.equal(ctx.app.linktrace.decompressBudget.inUse, 0, 'the reserve for a deflate message is given back');
      const metrics = (await get(`${ctx.url}/metrics`)).body.toString('utf8');
      assert.match(metrics, /linktrace_grpc_calls_total\{status="RESOURCE_EXHAUSTED",code="payload_too_large"\} 1/);
      assert.match(metrics, /linktrace_grpc_calls_total\{status="UNIMPLEMENTED",code="unsupported_encoding"\} 1/);
      assert.match(metrics, /linktrace_grpc_calls_total\{status="INTERNAL",code="invalid_encoding"\} 1/);
      await assertServes(ctx);
    });
  });

  it('a stream cut midway and garbage framing store nothing; the server serves on', async () => {
    await withGrpcApp({}, async (ctx) => {
      const whole = frame(encodeOtlpProto(spans(50)));
      await rawCall(ctx.address, {}, [whole.subarray(0, whole.length >> 1)], true);
      // A frame that announces more bytes than the stream holds, then ends.
      const short = await rawCall(ctx.address, {}, [whole.subarray(0, whole.length - 10)]);
      assert.notEqual(short.grpcStatus, GrpcStatus.OK);
      assert.equal(ctx.app.linktrace.wal.stats().records, 0);
      await assertServes(ctx);
    });
  });

  it('a wrong content-type is refused by grpc-js (HTTP 415) and the server serves on', async () => {
    await withGrpcApp({}, async (ctx) => {
      const answer = await rawCall(ctx.address, { 'content-type': 'application/json' }, [Buffer.from('{"resourceSpans":[]}')]);
      assert.equal(answer.headers[':status'], 415);
      assert.equal(ctx.app.linktrace.wal.stats().records, 0);
      await assertServes(ctx);
    });
  });

  it('with a token: no or a wrong authorization metadata is UNAUTHENTICATED; Bearer <token> is taken', async () => {
    await withGrpcApp({ token: 's3cret' }, async (ctx) => {
      const message = encodeOtlpProto(spans(2));
      const none = assertRefused(await exportCall(ctx.address, message));
      assert.equal(none.code, GrpcStatus.UNAUTHENTICATED);
      assert.match(none.details, /^unauthorized: .*requires authorization: Bearer <token>/);
      const wrong = assertRefused(await exportCall(ctx.address, message, { token: 'nope' }));
      assert.equal(wrong.code, GrpcStatus.UNAUTHENTICATED);
      assert.match(wrong.details, /the token is not valid/);
      assert.equal(ctx.app.linktrace.wal.stats().records, 0);
      await assertServes(ctx, 's3cret');
    });
  });

  it('a full backlog: RESOURCE_EXHAUSTED with RetryInfo (the Retry-After delay); taken again once the store catches up', async () => {
    const store = new MemoryStore();
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    store.gate = () => opened;
    const release = (): void => {
      store.gate = undefined;
      open();
    };
    await withGrpcApp({ store, pipeline: { maxBacklogSpans: 10, retryAfterSeconds: 3 } }, async (ctx) => {
      try {
        assert.ok((await exportCall(ctx.address, encodeOtlpProto(spans(10)))).ok);
        const error = assertRefused(await exportCall(ctx.address, encodeOtlpProto(spans(1))));
        assert.equal(error.code, GrpcStatus.RESOURCE_EXHAUSTED);
        assert.match(error.details, /^overloaded: /);
        assert.equal(retryDelaySeconds(error), 3);
      } finally {
        release();
      }
      await ctx.app.linktrace.pipeline.idle();
      await assertServes(ctx);
    });
  });

  it('one bad span among good ones: OK with partial_success (rejected_spans, error_message); the good spans are stored', async () => {
    await withGrpcApp({}, async (ctx) => {
      const batch = spans(4);
      const bad = { ...batch[3]!, spanId: 'abcd' };
      const result = await exportCall(ctx.address, encodeOtlpProto([...batch.slice(0, 3), bad]));
      assert.ok(result.ok);
      const partial = partialSuccess(result.response);
      assert.equal(partial?.rejected_spans, 1);
      assert.match(partial?.error_message ?? '', /span/i);
      await ctx.app.linktrace.pipeline.idle();
      assert.equal(ctx.store.getTrace(batch[0]!.traceId).length, 3);
      const metrics = (await get(`${ctx.url}/metrics`)).body.toString('utf8');
      assert.match(metrics, /linktrace_spans_rejected_total\{receiver="otlp-grpc",reason="invalid_span"\} 1/);
    });
  });

  it('maps every error code to a gRPC status; refusals with Retry-After carry RetryInfo', () => {
    const expected: Partial<Record<ErrorCode, GrpcStatus>> = {
      unauthorized: GrpcStatus.UNAUTHENTICATED,
      invalid_payload: GrpcStatus.INVALID_ARGUMENT,
      invalid_spans: GrpcStatus.INVALID_ARGUMENT,
      too_many_spans: GrpcStatus.RESOURCE_EXHAUSTED,
      too_many_attributes: GrpcStatus.INVALID_ARGUMENT,
      overloaded: GrpcStatus.RESOURCE_EXHAUSTED,
      decompress_busy: GrpcStatus.RESOURCE_EXHAUSTED,
      unavailable: GrpcStatus.UNAVAILABLE,
      internal_error: GrpcStatus.INTERNAL,
    };
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const status = grpcStatusOf(code);
      assert.ok(status !== GrpcStatus.OK && status !== GrpcStatus.UNKNOWN, code);
      if (expected[code] !== undefined) assert.equal(status, expected[code], code);
    }
    const closing = toGrpcError(new ApiError('unavailable', 'the server is shutting down', { 'retry-after': '2' }));
    assert.equal(closing.code, GrpcStatus.UNAVAILABLE);
    assert.equal(retryDelaySeconds({ ...closing, message: closing.details, name: 'Error' }), 2);
    assert.equal(toGrpcError(new ApiError('too_many_spans', 'x')).metadata.get('grpc-status-details-bin').length, 0);
  });
});
