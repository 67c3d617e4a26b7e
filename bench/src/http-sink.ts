/**
 * bench:http's minimal trace sink, run as its own process: answers every POST with 200 and an
 * empty OTLP response (an empty protobuf ExportTraceServiceResponse, or `{}` for JSON) without
 * decoding the body, so a traced server's figures show the tracer's own cost and not a
 * collector's. It only counts: requests, bytes, and the spans of protobuf bodies
 * (otlp-span-count.ts: a few varint reads per span, nothing decoded), so that a tracer that drops
 * spans still shows up as drops. `GET /stats` returns the counters as JSON.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countOtlpSpans } from './otlp-span-count.js';

const EMPTY = Buffer.alloc(0);
const EMPTY_JSON = Buffer.from('{}');
let requests = 0;
let bytes = 0;
let spans = 0;
/** Bodies whose spans were not counted (JSON, compressed or malformed). */
let uncounted = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, bytes, spans, uncounted }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    requests++;
    bytes += body.length;
    const json = (req.headers['content-type'] ?? '').includes('json');
    const n = json || req.headers['content-encoding'] !== undefined ? -1 : countOtlpSpans(body);
    if (n < 0) uncounted++;
    else spans += n;
    const answer = json ? EMPTY_JSON : EMPTY;
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf', 'content-length': answer.length });
    res.end(answer);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`sink: listening on http://127.0.0.1:${port}`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
