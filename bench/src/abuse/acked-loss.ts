/**
 * Acknowledged spans lost (issue 11's headline promise): concurrent clients send batches of distinct
 * traces, the server is SIGKILLed while requests are under way, restarted on the same data directory,
 * and every trace it acknowledged (2xx) is read back. Anything missing is an acknowledged span lost.
 */
import { startServerProcess } from '../ingest-server.js';
import { abuseTraceId, backlogDrained, NATIVE_JSON, nativeBatch, storedSpans } from './native-batch.js';

export interface AckedLossOptions {
  dataDir: string;
  /** How long the clients send before the kill. */
  sendMs: number;
  concurrency: number;
  spansPerRequest: number;
  /** At most this many requests in all (bounds the read-back). */
  maxRequests: number;
  serveArgs?: readonly string[];
}

export interface AckedLossResult {
  requests: number;
  acknowledgedRequests: number;
  acknowledgedSpans: number;
  /** Requests that failed because the server died under them (never acknowledged). */
  cutRequests: number;
  lostSpans: number;
}

export async function measureAckedLoss(options: AckedLossOptions): Promise<AckedLossResult> {
  const args = ['--no-ui', ...(options.serveArgs ?? [])];
  const server = await startServerProcess({ dataDir: options.dataDir, args });
  const acked: number[] = [];
  let next = 0;
  let cut = 0;
  let killed = false;
  const client = async (): Promise<void> => {
    while (!killed && next < options.maxRequests) {
      const seq = next++;
      try {
        const res = await fetch(`${server.url}/api/v1/spans`, { method: 'POST', headers: NATIVE_JSON, body: nativeBatch(2, seq, options.spansPerRequest) });
        await res.arrayBuffer();
        if (res.status === 200) acked.push(seq);
      } catch {
        cut++;
      }
    }
  };
  const clients = Array.from({ length: options.concurrency }, client);
  await new Promise((r) => setTimeout(r, options.sendMs));
  process.kill(server.pid, 'SIGKILL');
  killed = true;
  await server.exited;
  await Promise.all(clients);

  const again = await startServerProcess({ dataDir: options.dataDir, args });
  try {
    await backlogDrained(again.url);
    let lost = 0;
    for (const seq of acked) lost += options.spansPerRequest - (await storedSpans(again.url, abuseTraceId(2, seq)));
    return { requests: next, acknowledgedRequests: acked.length, acknowledgedSpans: acked.length * options.spansPerRequest, cutRequests: cut, lostSpans: lost };
  } finally {
    await again.stop(60_000);
  }
}
