/**
 * The one user searching during a flood (see flood.ts), on a worker thread of its own: on the flood's
 * thread, building the next large request body delayed reading a search's answer, and the time
 * measured was partly the bench's own. Searches one query at a time, 50 ms apart, until told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { httpRequest, keepAliveAgent } from '../ingest-http.js';

export interface SearcherData {
  url: string;
  services: readonly string[];
}

export interface SearcherResult {
  latencies: number[];
  failed: number;
}

const { url, services } = workerData as SearcherData;
const base = new URL(url);
let stopped = false;
parentPort!.once('message', () => (stopped = true));

const agent = keepAliveAgent(1);
const latencies: number[] = [];
let failed = 0;
let n = 0;
while (!stopped) {
  const path =
    n++ % 2 === 0
      ? `/api/v1/traces?service=${services[n % services.length]!}&limit=20`
      : `/api/v1/traces?attr=${encodeURIComponent(`user.id=u${n % 5000}`)}&limit=20`;
  const t0 = performance.now();
  try {
    const answer = await httpRequest(agent, new URL(path, base), 'GET', {}, undefined, 60_000);
    if (answer.status === 200) latencies.push(performance.now() - t0);
    else failed++;
  } catch {
    failed++;
  }
  await new Promise((r) => setTimeout(r, 50));
}
agent.destroy();
parentPort!.postMessage({ latencies, failed } satisfies SearcherResult);
