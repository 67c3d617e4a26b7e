import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { decodeOtlpJson, decodeOtlpProto, decodeZipkinJson, type Span } from '@linktrace/model';
import { otlpHttpExporter } from '../src/export/otlp-http-exporter.js';
import { zipkinExporter } from '../src/export/zipkin-exporter.js';
import { createTracing } from '../src/trace/tracing.js';

/** A real local collector: records every request body, decoded by the model's own codecs. */
const received: { path: string; type: string; spans: Span[]; resourceDropped: unknown[] }[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    received.push(decodeBody(req, body));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
let base = '';

function decodeBody(req: IncomingMessage, body: Buffer) {
  const type = String(req.headers['content-type']);
  if (req.url === '/api/v2/spans') {
    return { path: req.url, type, spans: decodeZipkinJson(JSON.parse(body.toString('utf8'))).spans, resourceDropped: [] };
  }
  const raw = type.includes('protobuf') ? null : (JSON.parse(body.toString('utf8')) as { resourceSpans: { resource: { attributes: { key: string; value: unknown }[] } }[] });
  const spans = raw ? decodeOtlpJson(raw).spans : decodeOtlpProto(body).spans;
  return { path: req.url ?? '', type, spans, resourceDropped: spans.map((s) => s.resource?.['linktrace.sdk.dropped_spans']) };
}

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('tracer → batch processor → exporter → a real HTTP collector', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`delivers start records and ended spans over OTLP/${encoding} with gzip`, async () => {
      received.length = 0;
      const tracing = createTracing({
        service: 'checkout',
        instance: '10.1.2.3:8080',
        startRecords: true,
        exporter: otlpHttpExporter({ url: `${base}/v1/traces`, encoding, gzip: true }),
      });
      const tracer = tracing.getTracer('checkout-lib', '2.0.0');
      await tracer.trace('POST /orders', { kind: 'server', attributes: { 'user.password': 'hunter2', 'order.items': 3 } }, async () => {
        await tracer.trace('INSERT orders', { kind: 'client', attributes: { 'linktrace.stage': 'write', 'linktrace.target': 'postgres:orders' } }, () => Promise.resolve());
      });
      await tracing.shutdown();
      const spans = received.flatMap((r) => r.spans);
      assert.ok(received.every((r) => r.type.startsWith(encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json')));
      const starts = spans.filter((s) => s.durationUs === undefined);
      const ends = spans.filter((s) => s.durationUs !== undefined);
      assert.deepEqual(starts.map((s) => s.name).sort(), ['INSERT orders', 'POST /orders']);
      assert.deepEqual(ends.map((s) => s.name).sort(), ['INSERT orders', 'POST /orders']);
      for (const span of spans) {
        assert.equal(span.service, 'checkout');
        assert.equal(span.instance, '10.1.2.3:8080');
        assert.deepEqual(span.scope && { name: span.scope.name, version: span.scope.version }, { name: 'checkout-lib', version: '2.0.0' });
        assert.equal(span.resource?.['linktrace.sdk.dropped_spans'], 0);
      }
      const root = ends.find((s) => s.name === 'POST /orders')!;
      const child = ends.find((s) => s.name === 'INSERT orders')!;
      assert.equal(root.kind, 'server');
      assert.equal(root.rpcid, '0');
      assert.equal(child.rpcid, '0.1');
      assert.equal(child.parentSpanId, root.spanId);
      assert.equal(root.attributes['user.password'], '[REDACTED]');
      assert.equal(root.attributes['order.items'], 3);
      assert.equal(child.attributes['linktrace.target'], 'postgres:orders');
      const rootStart = starts.find((s) => s.name === 'POST /orders')!;
      assert.equal(rootStart.spanId, root.spanId);
      assert.equal(rootStart.startUs, root.startUs);
    });
  }

  it('delivers to a Zipkin v2 endpoint', async () => {
    received.length = 0;
    const tracing = createTracing({ service: 'legacy', exporter: zipkinExporter({ url: `${base}/api/v2/spans` }) });
    const tracer = tracing.getTracer();
    tracer.trace('GET /legacy', { kind: 'server' }, () => tracer.startSpan('lookup', { kind: 'client' }).end());
    await tracing.shutdown();
    const spans = received.flatMap((r) => r.spans);
    assert.deepEqual(spans.map((s) => `${s.service}:${s.kind}:${s.name}:${s.rpcid}`).sort(), [
      'legacy:client:lookup:0.1',
      'legacy:server:GET /legacy:0',
    ]);
  });
});
