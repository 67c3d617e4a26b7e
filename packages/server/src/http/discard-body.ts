/**
 * An oversized body is answered, not reset. Fastify refuses a body over the limit as soon as it
 * knows, answers with `Connection: close`, and Node then destroys the socket while the client is
 * still sending: the client sees EPIPE/ECONNRESET instead of our 413 and retries the same batch as a
 * network error. So before the 413 goes out, the rest of the body is read and thrown away, up to a
 * bound; a body declared larger than the bound is not waited for (the socket closes after the answer).
 */
import type { IncomingMessage } from 'node:http';

/** How much of an oversized body is read and discarded before answering: this many request limits. */
export const DISCARD_LIMITS = 4;

/** Resolves once `request`'s body has ended (or failed), or `maxBytes` more arrived. Never rejects. */
export function discardBody(request: IncomingMessage, maxBytes: number): Promise<void> {
  if (request.complete || request.readableEnded || request.destroyed) return Promise.resolve();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (): void => {
      request.off('data', onData);
      request.off('end', finish);
      request.off('error', finish);
      request.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    request.on('data', onData);
    request.once('end', finish);
    request.once('error', finish);
    request.once('close', finish);
    request.resume();
  });
}
