/**
 * A flood of long-lived traces against a running server on loopback, bounded in time and in spans,
 * while one client searches: what the operator's UI sees during the flood. Every trace of a pool
 * keeps getting spans for the whole flood, so none goes quiet for the check delay: the chain checker
 * would hold all of them until their maximum wait. Returns the search latencies and what the server
 * reported while it was flooded (peak RSS, spans the checker held, /healthz statuses seen).
 *
 * Reusable: `npm run bench:abuse` calls `runFlood` with a server it started.
 */
import { Worker } from 'node:worker_threads';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { httpRequest, keepAliveAgent, retryAfterSeconds } from '../ingest-http.js';
import { percentile } from '../stats.js';
import type { SearcherData, SearcherResult } from './flood-searcher.js';

export interface FloodOptions {
  /** The server, `http://host:port`. */
  url: string;
  /** The flood stops after this long... */
  durationMs: number;
  /** ...or once this many spans were accepted. */
  maxSpans: number;
  /** Traces that keep getting spans (each request adds spans to `tracesPerRequest` of them). */
  traces?: number;
  spansPerRequest?: number;
  tracesPerRequest?: number;
  /** Requests under way at once. */
  concurrency?: number;
  /** Bytes of filler text per span (an attribute), for realistic span sizes. */
  fillerBytes?: number;
  /** How often the server's /metrics and /healthz are read during the flood. */
  sampleEveryMs?: number;
}

export interface FloodResult {
  durationS: number;
  acceptedSpans: number;
  /** Spans in requests answered 429/503 (retried after Retry-After, as exporters do). */
  refusedSpans: number;
  /** Requests that failed otherwise (network error, other status). */
  failedRequests: number;
  searches: number;
  searchP50Ms: number;
  searchP99Ms: number;
  searchMaxMs: number;
  peakRssMb: number;
  peakCheckerOpenSpans: number;
  /** The server's worst event-loop delay seen (prom-client's max since the last scrape). */
  peakEventLoopLagMs: number;
  /** /healthz statuses seen during the flood, with how often. */
  health: Record<string, number>;
}

const SERVICES = ['storefront', 'cart', 'checkout', 'payments', 'inventory', 'shipping'];
const OPERATIONS = ['GET /items', 'POST /cart', 'reserve', 'charge', 'ship'];

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** One request's spans: `spansPerRequest` spans spread over the next `tracesPerRequest` traces of the pool. */
function requestSpans(o: Required<Omit<FloodOptions, 'url' | 'durationMs' | 'maxSpans'>>, seq: number, filler: string): Span[] {
  const spans: Span[] = [];
  const perTrace = Math.max(1, Math.floor(o.spansPerRequest / o.tracesPerRequest));
  const nowUs = Date.now() * 1000;
  for (let t = 0; t < o.tracesPerRequest; t++) {
    const trace = (seq * o.tracesPerRequest + t) % o.traces;
    const traceId = hex(0xf100d, 16) + hex(trace, 16);
    for (let i = 0; i < perTrace; i++) {
      const n = seq * perTrace + i;
      spans.push({
        traceId,
        spanId: hex(seq, 8) + hex(t * perTrace + i, 8),
        parentSpanId: hex(trace, 16),
        service: SERVICES[n % SERVICES.length]!,
        name: OPERATIONS[n % OPERATIONS.length]!,
        kind: 'server',
        startUs: nowUs - 1000,
        durationUs: 900,
        status: { code: 'unset' },
        attributes: { 'http.route': '/items/:id', 'user.id': `u${n % 5000}`, note: filler },
        events: [],
        links: [],
      });
    }
  }
  return spans;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

export async function runFlood(options: FloodOptions): Promise<FloodResult> {
  const o = { traces: 20_000, spansPerRequest: 500, tracesPerRequest: 50, concurrency: 4, fillerBytes: 200, sampleEveryMs: 500, ...options };
  const base = new URL(o.url);
  const filler = 'x'.repeat(o.fillerBytes);
  const started = performance.now();
  const deadline = started + o.durationMs;
  let accepted = 0;
  let refused = 0;
  let failed = 0;
  let seq = 0;
  const over = (): boolean => performance.now() >= deadline || accepted >= o.maxSpans;

  const postAgent = keepAliveAgent(o.concurrency);
  const sender = async (): Promise<void> => {
    const target = new URL('/api/v1/spans', base);
    while (!over()) {
      const spans = requestSpans(o, seq++, filler);
      const body = Buffer.from(JSON.stringify(encodeNativeJson(spans)));
      try {
        const answer = await httpRequest(postAgent, target, 'POST', { 'content-type': 'application/json' }, body, 30_000);
        if (answer.status === 200) accepted += spans.length;
        else if (answer.status === 429 || answer.status === 503) {
          refused += spans.length;
          await new Promise((r) => setTimeout(r, retryAfterSeconds(answer.headers['retry-after'], 1) * 1000));
        } else failed++;
      } catch {
        failed++;
      }
    }
  };

  // One user searching, one query at a time, on its own thread (flood-searcher.ts): what the flood does to the query API.
  const searcher = new Worker(new URL('./flood-searcher.js', import.meta.url), { workerData: { url: o.url, services: SERVICES } satisfies SearcherData });
  const searched = new Promise<SearcherResult>((resolve, reject) => {
    searcher.once('message', resolve);
    searcher.once('error', reject);
  });

  // The server's own view, sampled.
  const sampleAgent = keepAliveAgent(1);
  let peakRss = 0;
  let peakOpenSpans = 0;
  let peakLag = 0;
  const health: Record<string, number> = {};
  const sampler = async (): Promise<void> => {
    while (!over()) {
      try {
        const text = (await httpRequest(sampleAgent, new URL('/metrics', base), 'GET', {}, undefined, 60_000)).body.toString('utf8');
        peakRss = Math.max(peakRss, metric(text, 'linktrace_process_resident_memory_bytes') || 0);
        peakOpenSpans = Math.max(peakOpenSpans, metric(text, 'linktrace_checker_open_spans') || 0);
        peakLag = Math.max(peakLag, metric(text, 'linktrace_nodejs_eventloop_lag_max_seconds') || 0);
        const h = JSON.parse((await httpRequest(sampleAgent, new URL('/healthz', base), 'GET', {}, undefined, 60_000)).body.toString('utf8')) as { status: string };
        health[h.status] = (health[h.status] ?? 0) + 1;
      } catch {
        health.unanswered = (health.unanswered ?? 0) + 1;
      }
      await new Promise((r) => setTimeout(r, o.sampleEveryMs));
    }
  };

  await Promise.all([...Array.from({ length: o.concurrency }, sender), sampler()]);
  searcher.postMessage('stop');
  const { latencies, failed: searchesFailed } = await searched;
  failed += searchesFailed;
  for (const agent of [postAgent, sampleAgent]) agent.destroy();
  return {
    durationS: (performance.now() - started) / 1000,
    acceptedSpans: accepted,
    refusedSpans: refused,
    failedRequests: failed,
    searches: latencies.length,
    searchP50Ms: latencies.length === 0 ? NaN : percentile(latencies, 50),
    searchP99Ms: latencies.length === 0 ? NaN : percentile(latencies, 99),
    searchMaxMs: latencies.length === 0 ? NaN : Math.max(...latencies),
    peakRssMb: peakRss / 1024 / 1024,
    peakCheckerOpenSpans: peakOpenSpans,
    peakEventLoopLagMs: peakLag * 1000,
    health,
  };
}
