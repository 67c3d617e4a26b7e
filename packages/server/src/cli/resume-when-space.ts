/**
 * A server started read-only on a full disk (serve.ts) becomes writable again on its own: every few
 * seconds it looks at the free space of its data directory, and once there is room it closes the
 * read-only server and starts a normal one on the same port (the log is replayed then). Queries are
 * refused for that moment only; while the disk stays full nothing is restarted.
 */
import { statfsSync } from 'node:fs';
import type { RunningServer } from './serve.js';

/** Free bytes in the data directory's file system at which a writable start is tried. */
export const RESUME_FREE_BYTES = 16 * 1024 * 1024;
export const RESUME_CHECK_MS = 2000;

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

/**
 * Wraps the read-only `initial`; `restart(port)` starts a server on that port (writable when it can,
 * read-only again otherwise, and then `writable` is false). The returned server's fields follow the
 * one currently running.
 */
export function resumeWhenSpace(
  initial: RunningServer,
  dataDir: string,
  restart: (port: number) => Promise<{ server: RunningServer; writable: boolean }>,
  warn: (line: string) => void,
): RunningServer {
  let current = initial;
  let closed = false;
  let swapping: Promise<void> | undefined;
  const port = Number(new URL(initial.url).port);
  const timer = setInterval(() => {
    if (swapping !== undefined || closed || freeBytes(dataDir) < RESUME_FREE_BYTES) return;
    swapping = (async () => {
      await current.close();
      const next = await restart(port);
      current = next.server;
      if (next.writable) clearInterval(timer);
    })()
      .catch((error: unknown) => warn(`linktrace: could not restart with free space: ${(error as Error).message}`))
      .finally(() => (swapping = undefined));
  }, RESUME_CHECK_MS);
  timer.unref();
  return {
    get app() {
      return current.app;
    },
    get store() {
      return current.store;
    },
    get url() {
      return current.url;
    },
    get retention() {
      return current.retention;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await swapping;
      await current.close();
    },
  };
}
