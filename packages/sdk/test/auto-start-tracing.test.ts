import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { startTracing } from '../src/auto/index.js';
import { activeContext, CollectingSpanProcessor, getGlobalTracing } from '../src/index.js';
import { isWrapped } from '../src/instrumentations/core/index.js';
import { httpInstrumentation } from '../src/instrumentations/http/index.js';
import { traceJob } from '../src/instrumentations/jobs/index.js';

describe('startTracing', () => {
  it('picks instrumentations by name or instance, sets the global tracing, and shuts down cleanly', async () => {
    const collector = new CollectingSpanProcessor();
    const warnings: string[] = [];
    const started = startTracing({
      service: 'prog',
      instance: 'box:7',
      processors: [collector],
      instrumentations: ['fetch', 'nope', httpInstrumentation({ ignoreIncoming: (req) => req.url === '/health' })],
      warn: (m) => warnings.push(m),
      flushOnSignal: false,
    });
    assert.deepEqual(started.instrumentations, ['fetch', 'http']);
    assert.match(warnings[0]!, /unknown instrumentation "nope"/);
    assert.equal(getGlobalTracing(), started.tracing);
    assert.equal(isWrapped(http.request), true);
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await fetch(`${base}/health`)).text();
    await (await fetch(`${base}/work`)).text();
    server.close();
    const deadline = Date.now() + 3000;
    while (collector.spans.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Two fetch client spans, one server span (the health check is ignored).
    assert.deepEqual(collector.spans.map((s) => `${s.kind}:${s.attributes['url.path']}`).sort(), ['client:/health', 'client:/work', 'server:/work']);
    assert.equal(collector.spans[0]!.service, 'prog');
    assert.ok(collector.spans.every((s) => s.instance === 'box:7'));
    // Next-hop pointers (federated mode): the client span names the peer it called, the server span
    // the address it was called at, so a gateway can match the two.
    const port = Number(new URL(base).port);
    for (const s of collector.spans) {
      assert.equal(s.attributes['server.address'], '127.0.0.1', `${s.kind} ${String(s.attributes['url.path'])}`);
      assert.equal(s.attributes['server.port'], port);
    }
    await started.shutdown();
    await started.shutdown();
    assert.equal(isWrapped(http.request), false);
  });

  it('a traceparent makes the root spans children of the given parent; shutdown forgets it', async () => {
    const collector = new CollectingSpanProcessor();
    const started = startTracing({
      service: 'child',
      processors: [collector],
      instrumentations: [],
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'lt=0.4',
      flushOnSignal: false,
    });
    const tracer = started.tracing.getTracer('t');
    tracer.startSpan('first').end();
    tracer.startSpan('second').end();
    assert.deepEqual(collector.spans.map((s) => [s.traceId, s.parentSpanId, s.rpcid]), [
      ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', '0.4.1'],
      ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', '0.4.2'],
    ]);
    await started.shutdown();
    assert.equal(activeContext().span, undefined);
  });

  it('a malformed traceparent is reported and ignored', async () => {
    const warnings: string[] = [];
    const started = startTracing({ processors: [], instrumentations: [], traceparent: '00-zz', warn: (m) => warnings.push(m), flushOnSignal: false });
    assert.equal(activeContext().span, undefined);
    assert.match(warnings[0]!, /not a valid W3C traceparent/);
    await started.shutdown();
  });
});

describe('traceJob', () => {
  it('one root span per run, whatever is active; result returned, errors recorded and rethrown', async () => {
    const collector = new CollectingSpanProcessor();
    const started = startTracing({ service: 'jobs', processors: [collector], instrumentations: [], flushOnSignal: false });
    const tracer = started.tracing.getTracer('t');
    const outer = tracer.startSpan('request');
    const result = await tracer.startActiveSpan('request-scope', { parent: outer }, () =>
      traceJob('nightly-sync', (span) => {
        tracer.startSpan('step').end();
        return Promise.resolve(span.isRecording() ? 42 : 0);
      }),
    );
    outer.end();
    assert.equal(result, 42);
    const failure = new Error('job failed');
    assert.throws(() => traceJob('broken', () => { throw failure; }), (e) => e === failure);
    await assert.rejects(traceJob('broken-async', () => Promise.reject(failure)), (e) => e === failure);
    const job = collector.byName('nightly-sync');
    const step = collector.byName('step');
    assert.equal(job.parentSpanId, undefined);
    assert.notEqual(job.traceId, outer.traceId);
    assert.equal(job.rpcid, '0');
    assert.equal(job.attributes['linktrace.job.name'], 'nightly-sync');
    assert.equal(step.parentSpanId, job.spanId);
    for (const name of ['broken', 'broken-async']) {
      const span = collector.byName(name);
      assert.equal(span.status.code, 'error');
      assert.equal(span.status.message, 'job failed');
      assert.equal(span.events[0]?.name, 'exception');
    }
    await started.shutdown();
  });
});
