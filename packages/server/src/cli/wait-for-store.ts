/**
 * Opening a remote store (ClickHouse) that is down when the server starts: the server says so
 * clearly, retries with backoff (1 s doubling to 30 s), and meanwhile answers on its port: `/healthz`
 * 503 with the reason, every other route 503 `unavailable` with Retry-After, so that load balancers
 * and operators see why instead of a refused connection. A store that answers but refuses (wrong
 * credentials, a schema newer than this code) is not retried: the start fails with its message.
 * A stop asked for meanwhile (SIGTERM from systemd) ends the wait at once: nothing is open yet, so
 * there is nothing to drain, and a server whose store never comes back must still stop.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpanStore } from '@linktrace/storage';

/** The wait for the store ended because a stop was asked for (`signal`), not because it failed. */
export class StoreWaitAborted extends Error {
  constructor(display: string) {
    super(`stopped while waiting for the store ${display}`);
    this.name = 'StoreWaitAborted';
  }
}

export interface WaitForStoreOptions {
  host: string;
  port: number;
  /** The store as the operator named it (no password). */
  display: string;
  warn: (line: string) => void;
  /** Whether a failure to open is worth retrying (the store could not be reached). */
  retryable: (error: unknown) => boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A split role (`ingester`, …): its stand-in /healthz has `role` and `reason` like the role's own. */
  role?: string;
  /** Aborted: stop waiting (rejects with StoreWaitAborted; a store that opened meanwhile is closed). */
  signal?: AbortSignal;
}

const RETRY_AFTER_S = 5;

/** Opens the store, retrying while it is unreachable; resolves with it and the port the stand-in listened on (or `port`). */
export async function openStoreWithRetry(open: () => Promise<SpanStore>, options: WaitForStoreOptions): Promise<{ store: SpanStore; port: number }> {
  let delay = options.firstDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  let standIn: Server | undefined;
  let port = options.port;
  let reason = '';
  // A function, not the property: TypeScript would narrow `aborted` across the await below.
  const aborted = (): boolean => options.signal?.aborted === true;
  try {
    for (;;) {
      if (aborted()) throw new StoreWaitAborted(options.display);
      try {
        const store = await open();
        if (aborted()) {
          await store.close();
          throw new StoreWaitAborted(options.display);
        }
        return { store, port };
      } catch (error) {
        if (error instanceof StoreWaitAborted) throw error;
        if (!options.retryable(error)) throw error;
        reason = error instanceof Error ? error.message : String(error);
      }
      if (standIn === undefined) {
        standIn = await listen(options.host, options.port, () => reason, options.display, options.role);
        port = (standIn.address() as AddressInfo).port;
      }
      options.warn(`linktrace: the store ${options.display} cannot be reached (${reason}); retrying in ${delay / 1000}s (/healthz says why meanwhile)`);
      try {
        await sleep(delay, undefined, options.signal === undefined ? {} : { signal: options.signal });
      } catch {
        throw new StoreWaitAborted(options.display);
      }
      delay = Math.min(delay * 2, maxDelay);
    }
  } finally {
    if (standIn !== undefined) {
      const s = standIn;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}

function listen(host: string, port: number, reason: () => string, display: string, role: string | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    const why = reason();
    const health =
      role === undefined
        ? { status: 'unavailable', accepting: false, store: { reachable: false, error: why } }
        : { status: 'unavailable', role, store: { reachable: false, error: why }, reason: `store: ${why}` };
    const body =
      req.url?.split('?')[0] === '/healthz'
        ? health
        : { error: { code: 'unavailable', message: `the server is waiting for its store ${display} (${why}); retry later` } };
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(RETRY_AFTER_S), connection: 'close' });
    res.end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
