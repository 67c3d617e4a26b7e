/**
 * Minimal HTTP client of the ingest benchmark: node:http over keep-alive connections, the whole
 * answer read into one buffer. Used for both the load (POST) and the queries (GET), so that the
 * client's own cost is small and the same on both sides of a comparison.
 */
import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** One request; rejects on a network error or when no answer comes within `timeoutMs`. */
export function httpRequest(
  agent: Agent,
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string> = {},
  body?: Uint8Array,
  timeoutMs = 120_000,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.byteLength) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Seconds of a `Retry-After` header (delta-seconds form), or `fallback`. */
export function retryAfterSeconds(header: string | string[] | undefined, fallback: number): number {
  const text = Array.isArray(header) ? header[0] : header;
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
