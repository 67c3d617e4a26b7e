/**
 * The gzip-bomb burst of issue 11 (item 1), as a reusable measurement for `bench:abuse`: many small
 * gzip bodies that each inflate to (nearly) the server's per-request cap, sent all at once to a
 * running server on loopback; the server's RSS is sampled from /proc during the burst and for a while
 * after it. Linux only (reads /proc/<pid>/status).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';

export interface GzipBurstOptions {
  /** `http://host:port` of the server under test. */
  url: string;
  /** The server's process id, for its RSS. */
  pid: number;
  /** Bodies sent at once. */
  bombs: number;
  /** Bytes each body inflates to (default 16 MB less a little: just under the default cap). */
  inflatedBytes?: number;
  /** How long RSS is watched after the last answer (default 60 s). */
  settleMs?: number;
  /** RSS sampling period (default 50 ms). */
  sampleMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface GzipBurstResult {
  bombs: number;
  compressedBytes: number;
  inflatedBytes: number;
  /** Answers by HTTP status ('error' for a connection that failed). */
  statuses: Record<string, number>;
  rssBeforeMb: number;
  peakRssMb: number;
  /** RSS at the end of the settle time. */
  rssAfterMb: number;
  /** rssAfterMb / rssBeforeMb: the target is at most 1.5. */
  rssAfterRatio: number;
  burstMs: number;
  /** Slowest answer to a query (GET /api/v2/services) sent every 100 ms while the burst was answered. */
  queryMaxMs: number;
  queries: number;
}

/** RSS of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/**
 * A valid, empty OTLP/JSON export padded with whitespace to `inflatedBytes`: it passes every check but
 * the size, so the server inflates and parses all of it (the worst case for memory).
 */
export function gzipBomb(inflatedBytes: number): Buffer {
  const head = Buffer.from('{"resourceSpans":[]}');
  const body = Buffer.alloc(Math.max(inflatedBytes, head.length), 0x20);
  head.copy(body, 0);
  return gzipSync(body, { level: 9 });
}

/** Latency of one query, ms (Infinity when it failed). */
async function queryMs(url: string): Promise<number> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/api/v2/services`);
    await res.arrayBuffer();
    return res.ok ? performance.now() - started : Infinity;
  } catch {
    return Infinity;
  }
}

function post(url: string, body: Buffer): Promise<number | 'error'> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/v1/traces`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve('error'));
      },
    );
    req.on('error', () => resolve('error'));
    req.end(body);
  });
}

/** Sends the burst and watches RSS; returns the figures. */
export async function measureGzipBurst(options: GzipBurstOptions): Promise<GzipBurstResult> {
  const log = options.log ?? (() => undefined);
  const inflatedBytes = options.inflatedBytes ?? 16 * 1024 * 1024 - 1024;
  const sampleMs = options.sampleMs ?? 50;
  const settleMs = options.settleMs ?? 60_000;
  const bomb = gzipBomb(inflatedBytes);
  const rssBeforeMb = rssMb(options.pid);
  let peakRssMb = rssBeforeMb;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRssMb = Math.max(peakRssMb, rssMb(options.pid));
      await sleep(sampleMs);
    }
  })();
  log(`gzip burst: ${options.bombs} bodies of ${bomb.length} bytes, each inflating to ${inflatedBytes} bytes; RSS before ${rssBeforeMb.toFixed(0)} MB`);
  let bursting = true;
  let queryMaxMs = 0;
  let queries = 0;
  const prober = (async () => {
    while (bursting) {
      queryMaxMs = Math.max(queryMaxMs, await queryMs(options.url));
      queries++;
      await sleep(100);
    }
  })();
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: options.bombs }, () => post(options.url, bomb)));
  const burstMs = performance.now() - started;
  bursting = false;
  await prober;
  const statuses: Record<string, number> = {};
  for (const a of answers) statuses[String(a)] = (statuses[String(a)] ?? 0) + 1;
  log(`gzip burst: answered in ${burstMs.toFixed(0)} ms: ${JSON.stringify(statuses)}; peak RSS so far ${peakRssMb.toFixed(0)} MB; slowest query ${queryMaxMs.toFixed(0)} ms; settling ${settleMs / 1000} s`);
  await sleep(settleMs);
  sampling = false;
  await sampler;
  const rssAfterMb = rssMb(options.pid);
  return {
    bombs: options.bombs,
    compressedBytes: bomb.length,
    inflatedBytes,
    statuses,
    rssBeforeMb,
    peakRssMb,
    rssAfterMb,
    rssAfterRatio: rssAfterMb / rssBeforeMb,
    burstMs,
    queryMaxMs,
    queries,
  };
}
