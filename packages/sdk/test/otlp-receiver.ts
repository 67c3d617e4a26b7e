import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpJson, decodeOtlpProto, type Span } from '@linktrace/model';

/** A minimal OTLP/HTTP traces receiver for tests that run traced child processes. */
export interface OtlpReceiver {
  readonly url: string;
  readonly spans: Span[];
  readonly authorizations: (string | undefined)[];
  waitFor(predicate: (spans: Span[]) => boolean, what: string, timeoutMs?: number): Promise<Span[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: Span[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      authorizations.push(req.headers.authorization);
      try {
        const decoded = (req.headers['content-type'] ?? '').includes('json') ? decodeOtlpJson(JSON.parse(body.toString('utf8'))) : decodeOtlpProto(body);
        spans.push(...decoded.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    spans,
    authorizations,
    async waitFor(predicate, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (predicate(spans)) return spans;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`receiver: timed out waiting for ${what}; have ${spans.map((s) => `${s.service}/${s.kind}:${s.name}`).join(', ')}`);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
