import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR } from '@linktrace/model';
import { zipkinExporter } from '../src/export/zipkin-exporter.js';
import { RESOURCE, makeSpan, startRecordingServer } from './export-test-helpers.js';

interface ZSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string; ipv4?: string; port?: number };
  tags?: Record<string, string>;
}

void test('Zipkin v2 JSON: content type, path and spans as Zipkin expects them', async () => {
  const server = await startRecordingServer((_r, res) => res.writeHead(202).end());
  const exporter = zipkinExporter({ url: server.url('/api/v2/spans') });
  const spans = [
    makeSpan(1),
    makeSpan(2, { parentSpanId: '00000000abcd0001', kind: 'client', rpcid: '0.1', status: { code: 'error', message: 'timeout' } }),
    makeSpan(3, { durationUs: undefined }),
  ];
  const r = await exporter.export(spans, { ...RESOURCE, attributes: { [ATTR.droppedSpans]: 0 } });
  assert.deepEqual(r, { code: 'success' });
  const req = server.requests[0]!;
  assert.equal(req.path, '/api/v2/spans');
  assert.equal(req.headers['content-type'], 'application/json');
  const body = JSON.parse(req.body.toString()) as ZSpan[];
  assert.equal(body.length, 3);
  const [a, b, c] = body as [ZSpan, ZSpan, ZSpan];
  assert.equal(a.traceId, spans[0]!.traceId);
  assert.equal(a.id, spans[0]!.spanId);
  assert.equal(a.kind, 'SERVER');
  assert.equal(a.timestamp, spans[0]!.startUs);
  assert.equal(a.duration, spans[0]!.durationUs);
  assert.deepEqual(a.localEndpoint, { serviceName: 'checkout', ipv4: '10.0.0.1', port: 8080 });
  assert.equal(a.tags?.['http.status_code'], '200');
  assert.equal(a.tags?.[ATTR.droppedSpans], undefined, 'no dropped tag while nothing was dropped');
  assert.equal(b.parentId, '00000000abcd0001');
  assert.equal(b.kind, 'CLIENT');
  assert.equal(b.tags?.['error'], 'timeout');
  assert.equal(b.tags?.[ATTR.rpcid], '0.1');
  assert.equal(c.duration, undefined, 'start record has no duration');
  assert.equal(c.tags?.[ATTR.startRecord], 'true', 'and is marked as ours: a Zipkin span without duration is otherwise finished');
  assert.equal(a.tags?.[ATTR.startRecord], undefined);
  await exporter.shutdown();
  await server.close();
});

void test('the dropped-span count rides as a tag on every span once spans were dropped', async () => {
  const server = await startRecordingServer();
  const exporter = zipkinExporter({ url: server.url('/api/v2/spans'), gzip: true });
  await exporter.export([makeSpan(1), makeSpan(2)], { ...RESOURCE, attributes: { [ATTR.droppedSpans]: 12 } });
  const req = server.requests[0]!;
  assert.equal(req.headers['content-encoding'], 'gzip');
  const body = JSON.parse(req.body.toString()) as ZSpan[];
  assert.deepEqual(body.map((s) => s.tags?.[ATTR.droppedSpans]), ['12', '12']);
  await exporter.shutdown();
  await server.close();
});

void test('errors are results: 400 failed, 503 retryable, after shutdown failed', async () => {
  const statuses = [400, 503];
  const server = await startRecordingServer((_r, res, i) => res.writeHead(statuses[i] ?? 500).end());
  const exporter = zipkinExporter({ url: server.url('/api/v2/spans') });
  assert.equal((await exporter.export([makeSpan(1)], RESOURCE)).code, 'failed');
  assert.equal((await exporter.export([makeSpan(1)], RESOURCE)).code, 'retryable');
  await exporter.shutdown();
  assert.equal((await exporter.export([makeSpan(1)], RESOURCE)).code, 'failed');
  assert.equal(server.requests.length, 2);
  await server.close();
});
