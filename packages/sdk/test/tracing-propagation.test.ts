import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Context } from '../src/context/context.js';
import { runWithContext } from '../src/context/context-manager.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';
import { getGlobalTracing, getTracer, setGlobalTracing } from '../src/trace/global.js';
import { alwaysOff } from '../src/sampling/always-off.js';
import { forceSampling } from '../src/sampling/force-sampling.js';
import { parentBasedSampler } from '../src/sampling/parent-based.js';

function setup(service: string) {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service, processors: [collector] });
  return { collector, tracing, tracer: tracing.getTracer(service) };
}

describe('tracing across processes (inject / extract)', () => {
  it('continues a trace through HTTP headers, carrying the position', () => {
    const a = setup('caller');
    const b = setup('callee');
    const headers: Record<string, string> = {};
    a.tracer.trace('handle', { kind: 'server' }, () => {
      a.tracer.startSpan('warm-up').end();
      a.tracer.trace('call callee', { kind: 'client' }, () => a.tracing.inject(headers));
    });
    assert.match(headers['traceparent']!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.match(headers['tracestate']!, /^lt=0\.2$/);

    const parent = b.tracing.extract(headers);
    b.tracer.trace('serve', { kind: 'server', parent }, () => {
      b.tracer.startSpan('query db', { kind: 'client' }).end();
    });
    const call = a.collector.byName('call callee');
    const serve = b.collector.byName('serve');
    assert.equal(serve.traceId, call.traceId);
    assert.equal(serve.parentSpanId, call.spanId);
    assert.equal(serve.rpcid, '0.2');
    assert.equal(b.collector.byName('query db').rpcid, '0.2.1');
  });

  it("passes on the caller's W3C random flag (Level 2) and never sets it on a trace id made here", () => {
    const b = setup('callee');
    const parent = b.tracing.extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03' });
    const out: Record<string, string> = {};
    b.tracer.trace('serve', { kind: 'server', parent }, () => {
      b.tracer.trace('call on', { kind: 'client' }, () => b.tracing.inject(out));
    });
    assert.match(out['traceparent']!, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-03$/);
    const own: Record<string, string> = {};
    b.tracer.trace('root', { kind: 'client' }, () => b.tracing.inject(own));
    assert.match(own['traceparent']!, /-01$/);
  });

  it('gives an internal span under a remote parent a child position', () => {
    const a = setup('caller');
    const headers: Record<string, string> = {};
    a.tracer.trace('client', { kind: 'client' }, () => a.tracing.inject(headers));
    const b = setup('worker');
    b.tracer.startSpan('work', { parent: b.tracing.extract(headers) }).end();
    assert.equal(b.collector.byName('work').rpcid, '0.1');
  });

  it('starts a new trace when the headers are malformed, and never throws', () => {
    const b = setup('callee');
    const bad: Record<string, unknown>[] = [
      { traceparent: '00-XYZ-123-01' },
      { traceparent: 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' },
      { traceparent: 42 },
      { traceparent: ['a', 'b'], tracestate: { nested: true } },
      { b3: 'garbage' },
    ];
    for (const headers of bad) {
      const parent = b.tracing.extract(headers as Record<string, string>);
      const span = b.tracer.startSpan('serve', { kind: 'server', parent });
      span.end();
      const recorded = b.collector.spans.at(-1)!;
      assert.equal(recorded.spanId, span.spanId);
      assert.equal(recorded.parentSpanId, undefined, JSON.stringify(headers));
      assert.equal(recorded.rpcid, '0');
    }
    assert.doesNotThrow(() => b.tracing.extract(null as never));
    assert.doesNotThrow(() => b.tracing.extract(undefined as never));
  });

  it('joins the trace named by X-Service-Transaction-ID as a root span', () => {
    const b = setup('legacy-bridge');
    const parent = b.tracing.extract({ 'x-service-transaction-id': '4BF92F3577B34DA6A3CE929D0E0E4736' });
    b.tracer.startSpan('bridge', { kind: 'server', parent }).end();
    const span = b.collector.byName('bridge');
    assert.equal(span.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(span.parentSpanId, undefined);
    assert.equal(span.rpcid, '0');
  });

  it('accepts B3 headers from Zipkin-instrumented callers', () => {
    const b = setup('callee');
    const parent = b.tracing.extract({ 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' });
    b.tracer.startSpan('serve', { kind: 'server', parent }).end();
    const span = b.collector.byName('serve');
    assert.equal(span.traceId, '463ac35c9f6413ad');
    assert.equal(span.parentSpanId, 'a2fb4a1d1a96d312');
  });

  it('respects an unsampled remote parent (parent-based default) and keeps propagating', () => {
    const b = setup('callee');
    const parent = b.tracing.extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
    const out: Record<string, string> = {};
    b.tracer.startActiveSpan('serve', { kind: 'server', parent }, (span) => {
      b.tracing.inject(out);
      span.end();
    });
    assert.equal(b.collector.spans.length, 0);
    assert.match(out['traceparent']!, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  });

  it('carries baggage from the incoming request to outgoing calls', () => {
    const b = setup('callee');
    const parent = b.tracing.extract({ baggage: 'tenant=acme,flow=shop%20sync' });
    const out: Record<string, string> = {};
    runWithContext(parent, () => b.tracing.inject(out));
    assert.match(out['baggage']!, /tenant=acme/);
    assert.match(out['baggage']!, /flow=shop%20sync/);
  });

  it('has a global tracer that propagates even before tracing is configured', () => {
    const before = getGlobalTracing();
    const headers: Record<string, string> = {};
    const span = getTracer('lib').startSpan('unconfigured', { parent: null });
    before.inject(headers, undefined, Context.ROOT.withSpan(span));
    assert.match(headers['traceparent']!, /-00$/);
    const { tracing, collector } = setup('configured');
    setGlobalTracing(tracing);
    try {
      getTracer('lib').startSpan('configured span').end();
      assert.equal(collector.spans.length, 1);
    } finally {
      setGlobalTracing(before);
    }
  });

  it('records a single flow on demand: baggage entry or B3 debug flag force sampling', () => {
    const collector = new CollectingSpanProcessor();
    const tracing = createTracing({
      service: 'rarely-sampled',
      sampler: forceSampling(parentBasedSampler({ root: alwaysOff() })),
      processors: [collector],
    });
    const tracer = tracing.getTracer();
    tracer.startSpan('ordinary', { kind: 'server', parent: tracing.extract({}) }).end();
    tracer.startSpan('debug by baggage', { kind: 'server', parent: tracing.extract({ baggage: 'linktrace.debug=1' }) }).end();
    const b3Debug = { 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-flags': '1' };
    tracer.startSpan('debug by b3 flag', { kind: 'server', parent: tracing.extract(b3Debug) }).end();
    assert.deepEqual(collector.spans.map((s) => s.name), ['debug by baggage', 'debug by b3 flag']);
  });
});
