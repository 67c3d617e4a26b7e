/**
 * Slow clients (issue 11, item 4): `sockets` raw connections that send a request's headers and then
 * trickle its body one byte a second, against a server started with a short `--body-timeout`; one
 * normal client keeps querying meanwhile. Measures how long the server took to close the slowest of
 * them (the target: within the body timeout, plus Node's sweep interval) and the normal client's latency.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../stats.js';

export interface SlowSocketsOptions {
  url: string;
  sockets: number;
  /** Give up on a socket the server has not closed after this long. */
  giveUpMs: number;
  /** Pause between two body bytes. */
  trickleMs?: number;
}

export interface SlowSocketsResult {
  sockets: number;
  /** Sockets the server closed (with or without a 408 first). */
  closed: number;
  /** Of them, those answered 408 request_timeout before the close. */
  answered408: number;
  /** Seconds from the connection's opening to the server's close, for the slowest one (Infinity when one stayed open). */
  slowestCloseS: number;
  medianCloseS: number;
  /** The normal client's query latency meanwhile. */
  queryP99Ms: number;
  queries: number;
}

function slowSocket(url: URL, trickleMs: number, giveUpMs: number): Promise<{ closedMs: number | undefined; got408: boolean }> {
  return new Promise((resolve) => {
    // From the connection's opening, as the server's timeouts count (not from the connect call: a
    // thousand connects at once queue in the client first).
    let started = performance.now();
    const socket: Socket = connect(Number(url.port), url.hostname);
    let got = '';
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => finish(undefined), giveUpMs);
    const finish = (closedMs: number | undefined): void => {
      clearTimeout(giveUp);
      clearInterval(timer);
      socket.destroy();
      resolve({ closedMs, got408: got.startsWith('HTTP/1.1 408') });
    };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(performance.now() - started));
    socket.on('connect', () => {
      started = performance.now();
      socket.write(`POST /api/v1/spans HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
      timer = setInterval(() => socket.write(' '), trickleMs);
    });
  });
}

export async function measureSlowSockets(options: SlowSocketsOptions): Promise<SlowSocketsResult> {
  const url = new URL(options.url);
  let running = true;
  const latencies: number[] = [];
  const prober = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${options.url}/api/v2/services`);
        await res.arrayBuffer();
        latencies.push(performance.now() - started);
      } catch {
        latencies.push(Infinity);
      }
      await sleep(100);
    }
  })();
  const results = await Promise.all(Array.from({ length: options.sockets }, () => slowSocket(url, options.trickleMs ?? 1000, options.giveUpMs)));
  running = false;
  await prober;
  const closedMs = results.map((r) => r.closedMs).filter((ms): ms is number => ms !== undefined);
  return {
    sockets: options.sockets,
    closed: closedMs.length,
    answered408: results.filter((r) => r.got408).length,
    slowestCloseS: closedMs.length === results.length && closedMs.length > 0 ? Math.max(...closedMs) / 1000 : Infinity,
    medianCloseS: closedMs.length > 0 ? percentile(closedMs, 50) / 1000 : Infinity,
    queryP99Ms: latencies.length > 0 ? percentile(latencies, 99) : Infinity,
    queries: latencies.length,
  };
}
