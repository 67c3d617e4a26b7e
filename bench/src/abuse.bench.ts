/**
 * `npm run bench:abuse`: the attacks of issue 11 against a real `linktrace serve` on loopback, each on
 * a fresh server and data directory, bounded in count and time. Prints a table (attack, figure,
 * target, verdict) and, as its last line, the JSON of figures. Knobs (environment): BOMBS (300),
 * SETTLE_MS (60000: RSS is read this long after the gzip burst), FLOOD_SECONDS (30), FLOOD_MAX_SPANS
 * (1500000), SLOW_SOCKETS (1000), OVERSIZE_TRIES (60), WAL_RECORDS (20), KILL_AFTER_MS (3000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess, type ServerStart } from './ingest-server.js';
import { printResult, printTable } from './stats.js';
import { measureAckedLoss } from './abuse/acked-loss.js';
import { runFloodStep } from './abuse/flood-step.js';
import { measureGzipBurst } from './abuse/gzip-burst.js';
import { measureOversize } from './abuse/oversize.js';
import { measureSlowSockets } from './abuse/slow-sockets.js';
import { measureWalCorruption } from './abuse/wal-corruption.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const BODY_TIMEOUT_S = 5;

/** A fresh data directory for `fn`, removed afterwards. */
async function inDataDir<T>(fn: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'linktrace-abuse-'));
  try {
    return await fn(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `fn` against a fresh server (its own process and data directory), stopped afterwards. */
function withServer<T>(args: string[], fn: (url: string, pid: number) => Promise<T>, start: Partial<ServerStart> = {}): Promise<T> {
  return inDataDir(async (dataDir) => {
    const server = await startServerProcess({ ...start, dataDir, args: ['--no-ui', ...args] });
    try {
      await sleep(1000);
      return await fn(server.url, server.pid);
    } finally {
      await server.stop(60_000);
    }
  });
}

const settleMs = env('SETTLE_MS', 60_000);
log('bench:abuse: gzip burst');
const gzip = await withServer([], (url, pid) => measureGzipBurst({ url, pid, bombs: env('BOMBS', 300), settleMs, log }));
log('bench:abuse: flood of long-lived traces');
const flood = await withServer([], (url) => runFloodStep({ url, durationMs: env('FLOOD_SECONDS', 30) * 1000, maxSpans: env('FLOOD_MAX_SPANS', 1_500_000) }));
log('bench:abuse: slow sockets');
const slow = await withServer(['--header-timeout', '2s', '--body-timeout', `${BODY_TIMEOUT_S}s`], (url) =>
  measureSlowSockets({ url, sockets: env('SLOW_SOCKETS', 1000), giveUpMs: 60_000 }),
);
log('bench:abuse: oversized bodies');
const oversize = await withServer([], (url) => measureOversize({ url, tries: env('OVERSIZE_TRIES', 60), bytes: 5 * 1024 * 1024 }));
log('bench:abuse: corrupt log record');
const wal = await inDataDir((dataDir) => measureWalCorruption({ dataDir, records: env('WAL_RECORDS', 20) }));
log('bench:abuse: SIGKILL during ingest');
const loss = await inDataDir((dataDir) => measureAckedLoss({ dataDir, sendMs: env('KILL_AFTER_MS', 3000), concurrency: 8, spansPerRequest: 20, maxRequests: 5000 }));

const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const slowLimitS = BODY_TIMEOUT_S * 1.25;
printTable(
  ['attack', 'figure', 'target', 'verdict'],
  [
    [`gzip burst: ${gzip.bombs} bombs, peak RSS MB`, Math.round(gzip.peakRssMb), '< 512', verdict(gzip.peakRssMb < 512)],
    [`gzip burst: RSS ${settleMs / 1000} s after / before`, gzip.rssAfterRatio.toFixed(2), '<= 1.5', verdict(gzip.rssAfterRatio <= 1.5)],
    [`gzip burst: answers ${JSON.stringify(gzip.statuses)}, slowest query ms`, Math.round(gzip.queryMaxMs), '-', '-'],
    flood === undefined
      ? ['flood: search p99 ms', 'not run (flood.ts not on this branch)', '< 1000', '-']
      : [`flood ${flood.durationS.toFixed(0)} s, ${flood.acceptedSpans} spans: search p99 ms`, Math.round(flood.searchP99Ms), '< 1000', verdict(flood.searchP99Ms < 1000)],
    [`slow sockets: ${slow.closed}/${slow.sockets} closed (${slow.answered408} got 408), slowest s`, slow.slowestCloseS.toFixed(1), `<= ${slowLimitS} (body timeout ${BODY_TIMEOUT_S} s + sweep)`, verdict(slow.slowestCloseS <= slowLimitS)],
    [`slow sockets: normal client's query p99 ms (${slow.queries} queries)`, Math.round(slow.queryP99Ms), '-', '-'],
    [`oversize: ${oversize.tries} x 5 MB, share answered 413 ${JSON.stringify(oversize.others)}`, oversize.share413.toFixed(2), '1.00', verdict(oversize.share413 === 1)],
    [`corrupt record: of ${wal.records}, replayed (damaged ${wal.damagedRecords})`, wal.replayedRecords, `${wal.records - 1}`, verdict(wal.replayedRecords === wal.records - 1)],
    [`SIGKILL during ingest: ${loss.acknowledgedSpans} acked spans, lost`, loss.lostSpans, '0', verdict(loss.lostSpans === 0)],
  ],
);
printResult({
  gzip_burst_peak_rss_mb: Math.round(gzip.peakRssMb),
  rss_after_burst_ratio: Number(gzip.rssAfterRatio.toFixed(2)),
  flood_search_p99_ms: flood === undefined ? 'not run' : Math.round(flood.searchP99Ms),
  slow_sockets_closed_s: Number(slow.slowestCloseS.toFixed(1)),
  wal_records_saved_after_corruption: wal.replayedRecords,
  oversize_413_share: Number(oversize.share413.toFixed(2)),
  acked_spans_lost: loss.lostSpans,
});
