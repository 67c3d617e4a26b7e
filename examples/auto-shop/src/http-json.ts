import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY = 16 * 1024;

export class BadRequest extends Error {}

/** The request body parsed as a JSON object; `BadRequest` for anything else or a body over 16 KiB. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BadRequest('body too large');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequest('body must be a JSON object');
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** 400 for a `BadRequest`, 500 (logged) for anything else. */
export function sendError(res: ServerResponse, error: unknown, service: string): void {
  if (error instanceof BadRequest) {
    sendJson(res, 400, { error: error.message });
    return;
  }
  console.error(`${service}:`, error);
  if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
  else res.destroy();
}

/** Listens and prints the line the launcher waits for: `<service>: listening on http://host:port`. */
export function listen(server: Server, host: string, port: number, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address() as AddressInfo;
      const url = `http://${host}:${actual}`;
      console.log(`${service}: listening on ${url}`);
      resolve(url);
    });
  });
}

/**
 * Stops accepting connections and resolves once the requests in progress are answered (Node ends
 * each keep-alive connection after its current response); connections still open after
 * `graceMs` are cut.
 */
export function closeGracefully(server: Server, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Stops on SIGTERM/SIGINT by closing every handle, so the process ends by itself (no `process.exit`). */
export function onShutdown(service: string, close: () => Promise<void>): void {
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    close().then(
      () => console.log(`${service}: stopped`),
      (error: unknown) => {
        console.error(`${service}: error while stopping:`, error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Startup failures end the process with a message naming the service that was not usable. */
export async function usable<T>(what: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${what} is not usable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
