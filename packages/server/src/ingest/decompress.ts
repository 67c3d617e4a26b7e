/**
 * Request bodies with `Content-Encoding: gzip`. Decompression is streamed (off the event loop, in
 * zlib's chunks) under two bounds checked as each chunk comes out: the per-request cap (a gzip bomb
 * is stopped as soon as its output passes it, `too_large`) and, when given, the byte budget shared by
 * all requests (`busy` when a burst of bodies would together take more than it). A request that cannot
 * get its first share of the budget is refused before anything is inflated.
 */
import { createGunzip } from 'node:zlib';
import type { ByteBudget } from './byte-budget.js';

export class DecompressError extends Error {
  override readonly name = 'DecompressError';

  constructor(
    readonly kind: 'too_large' | 'corrupt' | 'unsupported' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

/** `true` for gzip, `false` for none/identity; throws DecompressError('unsupported') otherwise. */
export function isGzipEncoding(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase();
  if (value === 'gzip' || value === 'x-gzip') return true;
  if (value === '' || value === 'identity') return false;
  throw new DecompressError('unsupported', `Content-Encoding "${value.slice(0, 64)}" is not supported; send gzip or identity`);
}

/** zlib's output chunk: large enough that a 16 MB body is 256 chunks, small enough to stop a bomb early. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The first share a body takes before it is inflated: what typical tracing payloads inflate to
 * (JSON and protobuf compress 5–10×), so that most bodies never need to grow it.
 */
export function firstShare(compressedBytes: number, maxBytes: number): number {
  return Math.min(maxBytes, Math.max(CHUNK_BYTES, compressedBytes * 8));
}

/** The inflated body, and the budget bytes it holds until `release` (call it once the body is decoded). */
export interface Inflated {
  bytes: Buffer;
  release(): void;
}

const NO_RELEASE = (): void => undefined;

function busyError(budget: ByteBudget): DecompressError {
  return new DecompressError(
    'busy',
    `too many compressed bodies are being decompressed at once (${budget.inUse} of ${budget.capacity} bytes in use); the body was not accepted, retry later`,
  );
}

/**
 * Inflates `body`, stopping as soon as the output passes `maxBytes` (too_large), or, with a budget,
 * as soon as the budget cannot cover the output (busy). Throws DecompressError; on every error the
 * budget is given back before the promise settles.
 */
export function gunzipBudgeted(body: Buffer, maxBytes: number, budget?: ByteBudget): Promise<Inflated> {
  let held = 0;
  if (budget !== undefined) {
    const first = firstShare(body.length, maxBytes);
    if (!budget.tryTake(first)) return Promise.reject(busyError(budget));
    held = first;
  }
  let released = false;
  const release = (): void => {
    if (released || budget === undefined) return;
    released = true;
    budget.give(held);
  };
  return new Promise<Inflated>((resolve, reject) => {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    const fail = (error: DecompressError): void => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      gunzip.destroy();
      release();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > maxBytes) return fail(new DecompressError('too_large', `the body decompresses to more than ${maxBytes} bytes`));
      if (budget !== undefined && total > held) {
        // Grow by at least a quarter of what is held, so that a large body asks a few times, not per chunk.
        const more = Math.min(maxBytes, Math.max(total, held + (held >> 2))) - held;
        if (!budget.tryTake(more)) return fail(busyError(budget));
        held += more;
      }
      chunks.push(chunk);
    });
    gunzip.on('error', (error) => fail(new DecompressError('corrupt', `the body is not valid gzip data (${error.message})`)));
    gunzip.on('end', () => {
      if (failed) return;
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      chunks.length = 0;
      resolve({ bytes, release: budget === undefined ? NO_RELEASE : release });
    });
    gunzip.end(body);
  });
}

/** Inflates `body` under the per-request cap only (the write-ahead log's replay: one record at a time). */
export async function gunzipCapped(body: Buffer, maxBytes: number): Promise<Buffer> {
  return (await gunzipBudgeted(body, maxBytes)).bytes;
}
