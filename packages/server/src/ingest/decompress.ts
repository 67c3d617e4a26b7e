/**
 * Request bodies with `Content-Encoding: gzip`. Decompression runs off the event loop and stops as
 * soon as the output passes the cap, so a gzip bomb costs at most the cap in memory.
 */
import { gunzip } from 'node:zlib';

export class DecompressError extends Error {
  override readonly name = 'DecompressError';

  constructor(
    readonly kind: 'too_large' | 'corrupt' | 'unsupported',
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

export function gunzipCapped(body: Buffer, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: maxBytes }, (error, out) => {
      if (error === null) resolve(out);
      else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        reject(new DecompressError('too_large', `the body decompresses to more than ${maxBytes} bytes`));
      } else reject(new DecompressError('corrupt', `the body is not valid gzip data (${error.message})`));
    });
  });
}
