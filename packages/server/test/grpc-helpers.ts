/** Shared by the OTLP/gRPC tests: an app with the gRPC receiver, a raw grpc-js client, a raw HTTP/2 call, protobuf views. */
import { connect, constants as h2 } from 'node:http2';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { FastifyInstance } from 'fastify';
import { buildApp, tokenCheck, type AppOptions } from '../src/app.js';
import { EXPORT_TRACE_PATH, startGrpcReceiver, type GrpcReceiver } from '../src/grpc/otlp-grpc-receiver.js';
import { tempDir } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

/** A port with nothing listening on it (taken from a server that is closed again); gRPC's 0 means "off". */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningGrpcApp {
  app: FastifyInstance;
  store: MemoryStore;
  url: string;
  /** `127.0.0.1:<port>` */
  address: string;
  receiver: GrpcReceiver;
}

/** An app with a memory store and the gRPC receiver on a free port; everything closed afterwards. */
export async function withGrpcApp(options: Partial<AppOptions>, fn: (ctx: RunningGrpcApp) => Promise<void>): Promise<void> {
  const dataDir = await tempDir();
  const store = (options.store as MemoryStore | undefined) ?? new MemoryStore();
  let app: FastifyInstance | undefined;
  let receiver: GrpcReceiver | undefined;
  try {
    app = await buildApp({ ...options, store, dataDir });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    receiver = await startGrpcReceiver(app.linktrace.receivers!, {
      host: '127.0.0.1',
      port: await freePort(),
      authorized: options.token === undefined ? undefined : tokenCheck(options.token),
      warn: () => undefined,
    });
    await fn({ app, store, url, address: `127.0.0.1:${receiver.port}`, receiver });
  } finally {
    await receiver?.close(1000);
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export type CallResult = { ok: true; response: Buffer } | { ok: false; error: ServiceError };

const passThrough = (b: Buffer): Buffer => b;

/** One Export call by a raw grpc-js client: our bytes as the message, the answer's bytes back. */
export async function exportCall(
  address: string,
  message: Uint8Array,
  options: { token?: string; gzip?: boolean; maxSend?: number } = {},
): Promise<CallResult> {
  const client = new Client(address, credentials.createInsecure(), {
    ...(options.gzip === true ? { 'grpc.default_compression_algorithm': 2 } : {}),
    'grpc.max_send_message_length': options.maxSend ?? -1,
  });
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  try {
    return await new Promise<CallResult>((resolve) => {
      client.makeUnaryRequest(EXPORT_TRACE_PATH, passThrough, passThrough, Buffer.from(message), metadata, {}, (error, response) => {
        resolve(error === null ? { ok: true, response: response ?? Buffer.alloc(0) } : { ok: false, error });
      });
    });
  } finally {
    client.close();
  }
}

export function assertRefused(result: CallResult): ServiceError {
  if (result.ok) throw new Error('the call succeeded; a refusal was expected');
  return result.error;
}

/** A gRPC message frame: compressed flag, 4-byte length, bytes. */
export function frame(bytes: Uint8Array, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

export interface RawAnswer {
  /** Response headers (a trailers-only answer holds grpc-status here). */
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
  body: Buffer;
  /** grpc-status from the trailers or the headers; undefined when there was none. */
  grpcStatus?: number;
}

/**
 * A hand-made HTTP/2 call to the Export path: `headers` on top of gRPC's, then `chunks` written in
 * order. With `cut`, the stream is reset after the chunks instead of ended (a sender that dies midway);
 * the promise then resolves once the reset is sent.
 */
export async function rawCall(address: string, headers: Record<string, string>, chunks: Buffer[], cut = false): Promise<RawAnswer> {
  const session = connect(`http://${address}`);
  session.on('error', () => undefined);
  try {
    return await new Promise<RawAnswer>((resolve, reject) => {
      const stream = session.request({
        [h2.HTTP2_HEADER_METHOD]: 'POST',
        [h2.HTTP2_HEADER_PATH]: EXPORT_TRACE_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...headers,
      });
      const answer: RawAnswer = { headers: {}, trailers: {}, body: Buffer.alloc(0) };
      const chunksIn: Buffer[] = [];
      stream.on('response', (h) => (answer.headers = { ...h }));
      stream.on('trailers', (t) => (answer.trailers = { ...t }));
      stream.on('data', (d: Buffer) => chunksIn.push(d));
      stream.on('error', (e) => (cut ? undefined : reject(e)));
      stream.on('close', () => {
        answer.body = Buffer.concat(chunksIn);
        const status = answer.trailers['grpc-status'] ?? answer.headers['grpc-status'];
        if (status !== undefined) answer.grpcStatus = Number(status);
        resolve(answer);
      });
      for (const c of chunks) stream.write(c);
      if (cut) stream.close(h2.NGHTTP2_CANCEL);
      else stream.end();
    });
  } finally {
    session.close();
  }
}

/** protobufjs views, independent of the server's hand-written encoders. */
const root = protobuf.parse(`
  syntax = "proto3";
  message Duration { int64 seconds = 1; int32 nanos = 2; }
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message RetryInfo { Duration retry_delay = 1; }
  message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
  message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
`, { keepCase: true }).root;

/** The RetryInfo delay (seconds) carried by an error's grpc-status-details-bin, or undefined. */
export function retryDelaySeconds(error: ServiceError): number | undefined {
  const bin = error.metadata.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(bin)) return undefined;
  const status = root.lookupType('Status').toObject(root.lookupType('Status').decode(bin), { longs: Number }) as {
    code: number;
    details?: { type_url: string; value: Uint8Array }[];
  };
  if (status.code !== error.code) throw new Error(`Status.code ${status.code} differs from the call's status ${error.code}`);
  const any = status.details?.find((d) => d.type_url === 'type.googleapis.com/google.rpc.RetryInfo');
  if (any === undefined) return undefined;
  const info = root.lookupType('RetryInfo').toObject(root.lookupType('RetryInfo').decode(any.value), { longs: Number, defaults: true }) as {
    retry_delay?: { seconds: number };
  };
  return info.retry_delay?.seconds ?? 0;
}

/** ExportTraceServiceResponse bytes -> its partial success (undefined when full success). */
export function partialSuccess(response: Buffer): { rejected_spans: number; error_message: string } | undefined {
  const type = root.lookupType('ExportTraceServiceResponse');
  const decoded = type.toObject(type.decode(response), { longs: Number, defaults: true }) as {
    partial_success?: { rejected_spans: number; error_message: string };
  };
  return decoded.partial_success;
}
