/**
 * Runs `runFlood` once against a fresh `linktrace serve` (own process, own data directory) and
 * prints its figures, last line JSON. Bounded: FLOOD_SECONDS (default 60) and FLOOD_MAX_SPANS
 * (default 3 000 000); more `serve` flags in FLOOD_SERVE_ARGS (e.g. `--max-memory 256mb`), flags for
 * the server's node in FLOOD_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). With
 * FLOOD_URL, floods that server instead (another build, for a before/after comparison).
 *
 *   npm run build && node bench/dist/src/abuse/flood-run.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from '../ingest-server.js';
import { printResult, printTable } from '../stats.js';
import { runFlood } from './flood.js';

const seconds = Number(process.env.FLOOD_SECONDS ?? 60);
const maxSpans = Number(process.env.FLOOD_MAX_SPANS ?? 3_000_000);
const serveArgs = (process.env.FLOOD_SERVE_ARGS ?? '').split(' ').filter((a) => a !== '');
const nodeArgs = (process.env.FLOOD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

const dataDir = mkdtempSync(join(tmpdir(), 'linktrace-flood-'));
const given = process.env.FLOOD_URL;
const server = given === undefined ? await startServerProcess({ dataDir, nodeArgs, args: ['--no-ui', ...serveArgs] }) : undefined;
try {
  const r = await runFlood({ url: given ?? server!.url, durationMs: seconds * 1000, maxSpans });
  printTable(
    ['flood', 'value'],
    [
      ['duration (s)', r.durationS],
      ['spans accepted', r.acceptedSpans],
      ['spans refused (429/503)', r.refusedSpans],
      ['failed requests', r.failedRequests],
      ['searches', r.searches],
      ['search p50 (ms)', r.searchP50Ms],
      ['search p99 (ms)', r.searchP99Ms],
      ['search max (ms)', r.searchMaxMs],
      ['peak RSS (MB)', r.peakRssMb],
      ['peak checker open spans', r.peakCheckerOpenSpans],
      ['peak event-loop delay (ms)', r.peakEventLoopLagMs],
      ['/healthz seen', Object.entries(r.health).map(([k, v]) => `${k} ${v}`).join(', ')],
    ],
  );
  printResult({
    flood_search_p99_ms: Math.round(r.searchP99Ms),
    flood_search_p50_ms: Math.round(r.searchP50Ms),
    flood_accepted_spans: r.acceptedSpans,
    flood_peak_rss_mb: Math.round(r.peakRssMb),
    flood_peak_checker_open_spans: r.peakCheckerOpenSpans,
    flood_peak_event_loop_delay_ms: Math.round(r.peakEventLoopLagMs),
    flood_degraded_seen: (r.health.degraded ?? 0) > 0,
  });
} finally {
  await server?.stop(60_000);
  rmSync(dataDir, { recursive: true, force: true });
}
