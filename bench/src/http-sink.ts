/**
 * bench:http's minimal trace sink, run as its own process: answers every POST with 200 and an
 * empty OTLP response (an empty protobuf ExportTraceServiceResponse, or `{}` for JSON) without
 * decoding the body, so a traced server's figures show the tracer's own cost and not a
 * collector's. It only counts: requests, bytes, and the spans of protobuf bodies, found by
 * stepping over the length-delimited fields of ExportTraceServiceRequest → ResourceSpans →
 * ScopeSpans (a few varint reads per span, nothing decoded or allocated per span), so that a
 * tracer that drops spans still shows up as drops. `GET /stats` returns the counters as JSON.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const EMPTY = Buffer.alloc(0);
const EMPTY_JSON = Buffer.from('{}');
let requests = 0;
let bytes = 0;
let spans = 0;
/** Bodies whose spans were not counted (JSON, compressed or malformed). */
let uncounted = 0;

/** Reads a varint at `pos`; returns [value, next position], or undefined past `end`. */
function varint(buf: Buffer, pos: number, end: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  while (pos < end) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  return undefined;
}

/**
 * Counts field `field` (length-delimited) of the message in buf[start, end), descending into each
 * occurrence with `inner` when given. Returns the count, or -1 when the bytes do not parse.
 */
function countField(buf: Buffer, start: number, end: number, field: number, inner?: (s: number, e: number) => number): number {
  let count = 0;
  let pos = start;
  while (pos < end) {
    const tag = varint(buf, pos, end);
    if (tag === undefined) return -1;
    pos = tag[1];
    const wire = tag[0] % 8;
    if (wire === 0) {
      const v = varint(buf, pos, end);
      if (v === undefined) return -1;
      pos = v[1];
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint(buf, pos, end);
      if (len === undefined || len[1] + len[0] > end) return -1;
      pos = len[1];
      if (Math.floor(tag[0] / 8) === field) {
        const n = inner === undefined ? 1 : inner(pos, pos + len[0]);
        if (n < 0) return -1;
        count += n;
      }
      pos += len[0];
    } else return -1;
  }
  return pos === end ? count : -1;
}

/** Spans in an ExportTraceServiceRequest: resource_spans = 1 → scope_spans = 2 → spans = 2. */
function countSpans(body: Buffer): number {
  const scopeSpans = (s: number, e: number): number => countField(body, s, e, 2);
  const resourceSpans = (s: number, e: number): number => countField(body, s, e, 2, scopeSpans);
  return countField(body, 0, body.length, 1, resourceSpans);
}

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
    const n = json || req.headers['content-encoding'] !== undefined ? -1 : countSpans(body);
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
