/**
 * Runs the gzip-bomb burst (gzip-burst.ts) against a fresh `linktrace serve` process and prints its
 * figures, the JSON last: the burst alone (`npm run bench:abuse` runs it with the other attacks),
 * `node bench/dist/src/abuse/gzip-burst-main.js`.
 * Environment: BOMBS (default 300), SETTLE_MS (default 60000), SERVER_ARGS (more `serve` flags).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess } from '../ingest-server.js';
import { measureGzipBurst } from './gzip-burst.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const bombs = Number(process.env.BOMBS ?? 300);
const settleMs = Number(process.env.SETTLE_MS ?? 60_000);
const args = (process.env.SERVER_ARGS ?? '').split(/\s+/).filter((a) => a !== '');

const dataDir = mkdtempSync(join(tmpdir(), 'lt-gzip-burst-'));
const server = await startServerProcess({ dataDir, args: ['--no-ui', ...args] });
try {
  // Let start-up settle before the baseline.
  await sleep(2000);
  const result = await measureGzipBurst({ url: server.url, pid: server.pid, bombs, settleMs, log });
  log(`peak RSS ${result.peakRssMb.toFixed(0)} MB, before ${result.rssBeforeMb.toFixed(0)} MB, after ${result.rssAfterMb.toFixed(0)} MB (×${result.rssAfterRatio.toFixed(2)})`);
  process.stdout.write(`${JSON.stringify({ gzip_burst_peak_rss_mb: Math.round(result.peakRssMb), rss_after_burst_ratio: Number(result.rssAfterRatio.toFixed(2)), ...result })}\n`);
} finally {
  await server.stop(30_000);
  rmSync(dataDir, { recursive: true, force: true });
}
