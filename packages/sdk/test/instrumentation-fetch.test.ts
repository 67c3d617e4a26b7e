import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { activeContext, CollectingSpanProcessor, createTracing, runWithContext } from '../src/index.js';
import { instrument, suppressTracing, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { fetchInstrumentation } from '../src/instrumentations/fetch/index.js';

const collector = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'fetch-instr-test', processors: [collector] });
const tracer = tracing.getTracer('test');
let handle: InstrumentationHandle;
let server: http.Server;
let base: string;
let port: number;
const seen: { url: string; traceparent: string | undefined; bodyBytes: number }[] = [];

async function waitForSpans(count: number): Promise<Span[]> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (collector.spans.length >= count) return collector.spans;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${count} spans; have ${collector.spans.map((s) => s.name).join(', ')}`);
}

describe('fetch instrumentation', () => {
  before(async () => {
    handle = instrument({ tracing, instrumentations: [fetchInstrumentation({ ignoreOutgoing: (url) => url.endsWith('/ignored') })] });
    server = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', traceparent: req.headers.traceparent as string | undefined, bodyBytes: bytes });
        if (req.url === '/missing') res.statusCode = 404;
        res.end(req.url?.startsWith('/big') ? 'y'.repeat(5000) : 'ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    handle.disable();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('traces a fetch as a child of the active span and propagates its context', async () => {
    collector.clear();
    seen.length = 0;
    const parent = tracer.startSpan('parent');
    const text = await runWithContext(activeContext().withSpan(parent), async () => {
      const res = await fetch(`${base}/big?token=secret`, { method: 'POST', body: 'hello' });
      return res.text();
    });
    parent.end();
    assert.equal(text.length, 5000);
    const spans = await waitForSpans(2);
    const client = spans.find((s) => s.kind === 'client')!;
    assert.equal(client.name, 'POST');
    assert.equal(client.parentSpanId, parent.spanId);
    assert.equal(client.traceId, parent.traceId);
    assert.equal(client.rpcid, '0.1');
    assert.equal(seen[0]!.traceparent, `00-${parent.traceId}-${client.spanId}-01`);
    assert.equal(seen[0]!.bodyBytes, 5);
    assert.equal(client.attributes['url.full'], `${base}/big`);
    assert.equal(client.attributes['server.address'], '127.0.0.1');
    assert.equal(client.attributes['server.port'], port);
    assert.equal(client.attributes['http.response.status_code'], 200);
    assert.equal(client.attributes['http.request.body.size'], 5);
    assert.equal(client.attributes['http.response.body.size'], 5000);
    assert.equal(typeof client.attributes['linktrace.http.time_to_response_us'], 'number');
    assert.equal(typeof client.attributes['linktrace.http.response_read_us'], 'number');
    assert.equal(client.status.code, 'unset');
  });

  it('4xx marks the span an error; the response reaches the caller unchanged', async () => {
    collector.clear();
    const res = await fetch(`${base}/missing`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), 'ok');
    const [span] = await waitForSpans(1);
    assert.equal(span!.status.code, 'error');
    assert.equal(span!.attributes['http.response.status_code'], 404);
  });

  it('a failed fetch marks the span with the exception and rejects as before', async () => {
    collector.clear();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(fetch(`http://127.0.0.1:${deadPort}/`), (e: Error) => e instanceof TypeError && (e.cause as NodeJS.ErrnoException).code === 'ECONNREFUSED');
    const [span] = await waitForSpans(1);
    assert.equal(span!.kind, 'client');
    assert.equal(span!.status.code, 'error');
    assert.equal(span!.attributes['error.type'], 'ECONNREFUSED');
    assert.equal(span!.events[0]?.name, 'exception');
  });

  it('skips ignored and suppressed requests, and a caller-set traceparent is left alone', async () => {
    collector.clear();
    seen.length = 0;
    await (await fetch(`${base}/ignored`)).text();
    await runWithContext(suppressTracing(), async () => (await fetch(`${base}/suppressed`)).text());
    const own = '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01';
    await (await fetch(`${base}/own`, { headers: { traceparent: own } })).text();
    assert.deepEqual(seen.map((s) => [s.url, s.traceparent]), [['/ignored', undefined], ['/suppressed', undefined], ['/own', own]]);
    const spans = await waitForSpans(1);
    assert.deepEqual(spans.map((s) => s.attributes['url.path']), ['/own']);
  });

  it('stops when disabled', async () => {
    handle.disable();
    collector.clear();
    seen.length = 0;
    await (await fetch(`${base}/after`)).text();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(collector.spans.length, 0);
    assert.equal(seen[0]!.traceparent, undefined);
  });
});
