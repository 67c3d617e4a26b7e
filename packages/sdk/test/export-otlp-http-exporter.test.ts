import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ATTR } from '@linktrace/model';
import { otlpHttpExporter } from '../src/export/otlp-http-exporter.js';
import type { PartialSuccess } from '../src/export/otlp-partial-success.js';
import { parsePartialSuccess } from '../src/export/otlp-partial-success.js';
import { RESOURCE, makeSpan, startRecordingServer } from './export-test-helpers.js';

const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/', import.meta.url));
const OTLP_ROOT = join(FIXTURES, 'otlp');
const SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
if (!existsSync(join(OTLP_ROOT, SERVICE_PROTO))) throw new Error(`OTLP proto fixtures missing under ${OTLP_ROOT}`);

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(OTLP_ROOT, target);
root.loadSync(SERVICE_PROTO);
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const Response = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

interface PbKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
}
interface PbSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano?: string;
  attributes?: PbKeyValue[];
  status?: { code?: number; message?: string };
}
interface PbRequest {
  resourceSpans: { resource: { attributes: PbKeyValue[] }; scopeSpans: { spans: PbSpan[] }[] }[];
}

function decodeRequest(body: Buffer): PbRequest {
  const msg = Request.decode(body);
  return Request.toObject(msg, { longs: String, bytes: String, defaults: false }) as PbRequest;
}

const b64hex = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('hex');
const attrMap = (kvs: PbKeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue ?? kv.value.boolValue ?? kv.value.doubleValue]));

void test('protobuf: a Collector-shaped request that decodes with the official proto and matches the spans', async () => {
  const server = await startRecordingServer((_r, res) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  const exporter = otlpHttpExporter({ url: server.url('/v1/traces'), headers: { 'x-api-key': 'k1' } });
  const child = makeSpan(2, {
    parentSpanId: '00000000abcd0001',
    rpcid: '0.1',
    kind: 'client',
    status: { code: 'error', message: 'db down' },
  });
  const start = makeSpan(3, { durationUs: undefined });
  const resource = { ...RESOURCE, attributes: { ...RESOURCE.attributes, [ATTR.droppedSpans]: 7 } };
  const result = await exporter.export([makeSpan(1), child, start], resource);
  assert.deepEqual(result, { code: 'success' });
  const req = server.requests[0]!;
  assert.equal(req.path, '/v1/traces');
  assert.equal(req.headers['content-type'], 'application/x-protobuf');
  assert.equal(req.headers['x-api-key'], 'k1');
  const decoded = decodeRequest(req.body);
  assert.equal(decoded.resourceSpans.length, 1);
  const rs = decoded.resourceSpans[0]!;
  const rattrs = attrMap(rs.resource.attributes);
  assert.equal(rattrs['service.name'], 'checkout');
  assert.equal(rattrs[ATTR.droppedSpans], '7');
  assert.equal(rattrs['deployment.environment'], 'test');
  const spans = rs.scopeSpans.flatMap((s) => s.spans);
  assert.equal(spans.length, 3);
  const [a, b, c] = spans as [PbSpan, PbSpan, PbSpan];
  assert.equal(b64hex(a.traceId), makeSpan(1).traceId);
  assert.equal(b64hex(a.spanId), makeSpan(1).spanId);
  assert.equal(a.name, 'op-1');
  assert.equal(a.kind, 2, 'SPAN_KIND_SERVER');
  assert.equal(a.startTimeUnixNano, String(makeSpan(1).startUs * 1000));
  assert.equal(a.endTimeUnixNano, String((makeSpan(1).startUs + makeSpan(1).durationUs!) * 1000));
  assert.deepEqual(attrMap(a.attributes), { 'linktrace.stage': 'receive', 'http.status_code': '200', 'cache.hit': false });
  assert.equal(b64hex(b.parentSpanId), '00000000abcd0001');
  assert.equal(b.kind, 3, 'SPAN_KIND_CLIENT');
  assert.deepEqual(b.status, { code: 2, message: 'db down' });
  assert.equal(attrMap(b.attributes)[ATTR.rpcid], '0.1');
  assert.ok(c.endTimeUnixNano === undefined || c.endTimeUnixNano === '0', 'start record has no end time');
  await exporter.shutdown();
  await server.close();
});

void test('json + gzip: OTLP/JSON with hex ids, compressed on the wire', async () => {
  const server = await startRecordingServer();
  const exporter = otlpHttpExporter({ url: server.url('/v1/traces'), encoding: 'json', gzip: true });
  const resource = { service: 'checkout', attributes: { [ATTR.droppedSpans]: 0 } };
  assert.equal((await exporter.export([makeSpan(1)], resource)).code, 'success');
  const req = server.requests[0]!;
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['content-encoding'], 'gzip');
  const body = JSON.parse(req.body.toString()) as {
    resourceSpans: { resource: { attributes: PbKeyValue[] }; scopeSpans: { spans: { traceId: string; spanId: string; name: string }[] }[] }[];
  };
  const rs = body.resourceSpans[0]!;
  assert.equal(attrMap(rs.resource.attributes)[ATTR.droppedSpans], '0');
  const span = rs.scopeSpans[0]!.spans[0]!;
  assert.equal(span.traceId, makeSpan(1).traceId);
  assert.equal(span.spanId, makeSpan(1).spanId);
  assert.equal(span.name, 'op-1');
  await exporter.shutdown();
  await server.close();
});

void test('partial success, protobuf and JSON answers: still a success, reported to the callback', async () => {
  const pbAnswer = Response.encode(
    Response.create({ partialSuccess: { rejectedSpans: 2, errorMessage: 'span too large' } }),
  ).finish();
  let n = 0;
  const server = await startRecordingServer((_r, res) => {
    n++;
    if (n === 1) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(pbAnswer));
    else if (n === 2) res.writeHead(200, { 'content-type': 'application/json' }).end('{"partialSuccess":{"rejectedSpans":"5","errorMessage":"bad ids"}}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"partialSuccess":{}}');
  });
  const seen: PartialSuccess[] = [];
  const pb = otlpHttpExporter({ url: server.url('/v1/traces'), onPartialSuccess: (p) => seen.push(p) });
  const js = otlpHttpExporter({ url: server.url('/v1/traces'), encoding: 'json', onPartialSuccess: (p) => seen.push(p) });
  assert.equal((await pb.export([makeSpan(1)], RESOURCE)).code, 'success');
  assert.equal((await js.export([makeSpan(1)], RESOURCE)).code, 'success');
  assert.equal((await js.export([makeSpan(1)], RESOURCE)).code, 'success');
  assert.deepEqual(seen, [
    { rejectedSpans: 2, errorMessage: 'span too large' },
    { rejectedSpans: 5, errorMessage: 'bad ids' },
  ]);
  await pb.shutdown();
  await js.shutdown();
  await server.close();
});

void test('partial success is logged once by default', async () => {
  const server = await startRecordingServer((_r, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"partialSuccess":{"rejectedSpans":"1"}}'),
  );
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (line: string) => lines.push(line);
  try {
    const exporter = otlpHttpExporter({ url: server.url('/v1/traces'), encoding: 'json' });
    for (let i = 0; i < 3; i++) assert.equal((await exporter.export([makeSpan(i)], RESOURCE)).code, 'success');
    await exporter.shutdown();
  } finally {
    console.warn = original;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /rejected 1 span/);
  await server.close();
});

void test('partial-success parser: tolerant of empty, malformed and foreign bodies', () => {
  const enc = (o: object) => Buffer.from(JSON.stringify(o));
  assert.equal(parsePartialSuccess(Buffer.alloc(0), 'application/json', false), undefined);
  assert.equal(parsePartialSuccess(enc({}), 'application/json', false), undefined);
  assert.equal(parsePartialSuccess(enc({ partialSuccess: { rejectedSpans: 0, errorMessage: '' } }), 'application/json', false), undefined);
  assert.deepEqual(parsePartialSuccess(enc({ partialSuccess: { errorMessage: 'warn only' } }), undefined, false), {
    rejectedSpans: 0,
    errorMessage: 'warn only',
  });
  assert.equal(parsePartialSuccess(Buffer.from('not json'), 'application/json', false), undefined);
  assert.equal(parsePartialSuccess(Buffer.from([0x0a, 0x05, 0x08]), 'application/x-protobuf', true), undefined, 'truncated');
  assert.equal(parsePartialSuccess(Buffer.from([0xff, 0xff]), 'application/x-protobuf', true), undefined);
  // Unknown fields are skipped.
  const pb = Buffer.from([0x10, 0x01, 0x0a, 0x02, 0x08, 0x03]);
  assert.deepEqual(parsePartialSuccess(pb, undefined, true), { rejectedSpans: 3, errorMessage: '' });
});

void test('non-2xx answers and encoder errors become results, never throws', async () => {
  const server = await startRecordingServer((_r, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"bad_request","message":"no"}}'));
  const exporter = otlpHttpExporter({ url: server.url('/v1/traces') });
  const r = await exporter.export([makeSpan(1)], RESOURCE);
  assert.equal(r.code, 'failed');
  assert.match(r.code === 'failed' ? r.error.message : '', /HTTP 400/);
  await exporter.shutdown();
  const after = await exporter.export([makeSpan(1)], RESOURCE);
  assert.equal(after.code, 'failed', 'exporting after shutdown');
  assert.equal(server.requests.length, 1);
  await server.close();
  assert.throws(() => otlpHttpExporter({ encoding: 'xml' as 'json' }), TypeError);
});

void test('defaults to the standard Collector endpoint', async () => {
  // Nothing listens on localhost:4318 in the test environment (or it is a collector): either way the
  // request goes there, and the answer is a result.
  const exporter = otlpHttpExporter({ timeoutMs: 500 });
  const r = await exporter.export([makeSpan(1)], RESOURCE);
  assert.ok(r.code === 'retryable' ? /localhost:4318\/v1\/traces/.test(r.error.message) : true, JSON.stringify(r));
  await exporter.shutdown();
});
