/**
 * Oversized bodies (issue 11, item 7): `tries` POSTs of a body larger than the server's request limit,
 * each from Node's HTTP client on a fresh connection, counting how many got the 413 JSON answer
 * (rather than a reset or EPIPE, which exporters would retry as a network error).
 */
import { request } from 'node:http';

export interface OversizeOptions {
  url: string;
  tries: number;
  bytes: number;
}

export interface OversizeResult {
  tries: number;
  answered413: number;
  /** Other outcomes: status codes or error codes (EPIPE, ECONNRESET), with counts. */
  others: Record<string, number>;
  share413: number;
}

function postOnce(url: URL, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/v1/traces', method: 'POST', agent: false, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let code = '';
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code ?? '';
          } catch {
            code = 'not-json';
          }
          resolve(`${res.statusCode ?? 0} ${code}`.trim());
        });
        res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(body);
  });
}

export async function measureOversize(options: OversizeOptions): Promise<OversizeResult> {
  const url = new URL(options.url);
  const body = Buffer.alloc(options.bytes, 0x41);
  const others: Record<string, number> = {};
  let answered413 = 0;
  for (let i = 0; i < options.tries; i++) {
    const outcome = await postOnce(url, body);
    if (outcome === '413 payload_too_large') answered413++;
    else others[outcome] = (others[outcome] ?? 0) + 1;
  }
  return { tries: options.tries, answered413, others, share413: answered413 / options.tries };
}
