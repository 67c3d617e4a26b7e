/**
 * "Never throws into your code": each pluggable part (sampler, span processor, propagator) may throw;
 * the SDK catches it at the boundary, reports each place once and carries on. Also the OTel status rules.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { Context } from '../src/context/context.js';
import { runWithContext } from '../src/context/context-manager.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { MultiSpanProcessor } from '../src/trace/multi-span-processor.js';
import { createTracing, type TracingOptions } from '../src/trace/tracing.js';
import type { Propagator, Sampler, SpanProcessor } from '../src/types.js';

function setup(options: Partial<TracingOptions>) {
  const errors: string[] = [];
  const tracing = createTracing({ service: 'guard-test', onError: (e) => errors.push(e.message), ...options });
  return { tracing, tracer: tracing.getTracer(), errors };
}

const throwingProcessor = (what: unknown): SpanProcessor => ({
  onStart() {
    throw what;
  },
  onEnd() {
    throw what;
  },
  forceFlush() {
    throw what;
  },
  shutdown: () => Promise.reject(what as Error),
});

describe('guards', () => {
  it('a single processor that throws: start, end, flush and shutdown do not throw; reported once per place', async () => {
    const { tracer, tracing, errors } = setup({ processors: [throwingProcessor(new Error('boom'))] });
    for (let i = 0; i < 3; i++) {
      const span = tracer.startSpan(`s${i}`);
      assert.equal(span.isRecording(), true);
      span.end();
    }
    await tracing.forceFlush();
    await tracing.shutdown();
    assert.deepEqual(
      errors.map((m) => m.split(' threw')[0]),
      ['span processor onStart', 'span processor onEnd', 'span processor forceFlush', 'span processor shutdown'],
    );
    assert.match(errors[1]!, /Error: boom/);
    assert.equal(tracing.counters.guardedErrors, 8);
  });

  it('several processors: one that throws does not stop the others, and is reported', async () => {
    const collector = new CollectingSpanProcessor();
    const { tracer, tracing, errors } = setup({ processors: [throwingProcessor('a string'), collector] });
    tracer.startSpan('kept').end();
    await tracing.forceFlush();
    assert.deepEqual(collector.spans.map((s: Span) => s.name), ['kept']);
    assert.equal(errors.length, 3);
    assert.match(errors[1]!, /span processor onEnd threw "a string"/);
  });

  it('MultiSpanProcessor.forceFlush and shutdown resolve when a processor throws synchronously', async () => {
    const multi = new MultiSpanProcessor([throwingProcessor(undefined), new CollectingSpanProcessor()]);
    await multi.forceFlush();
    await multi.shutdown();
  });

  it('a throwing sampler: startSpan returns a non-recording span, nothing escapes', () => {
    const sampler: Sampler = {
      shouldSample() {
        throw new TypeError('bad sampler');
      },
      toString: () => 'broken',
    };
    const collector = new CollectingSpanProcessor();
    const { tracer, errors, tracing } = setup({ sampler, processors: [collector] });
    const span = tracer.startSpan('x');
    assert.equal(span.isRecording(), false);
    span.end();
    tracer.startSpan('y').end();
    assert.equal(collector.spans.length, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /sampler.shouldSample threw TypeError: bad sampler/);
    assert.equal(tracing.counters.guardedErrors, 2);
  });

  it('a sampler whose onSampledSpanEnd throws: the span still reaches the processor', () => {
    const sampler: Sampler = {
      shouldSample: () => true,
      onSampledSpanEnd() {
        throw 42;
      },
      toString: () => 'budget',
    };
    const collector = new CollectingSpanProcessor();
    const { tracer, errors } = setup({ sampler, processors: [collector] });
    tracer.startSpan('x').end();
    assert.equal(collector.spans.length, 1);
    assert.match(errors[0]!, /onSampledSpanEnd threw a non-Error value \(42\)/);
  });

  it('a throwing propagator: inject leaves the carrier alone, extract returns the given context', () => {
    const propagator: Propagator = {
      inject() {
        throw new Error('inject');
      },
      extract() {
        throw new Error('extract');
      },
      fields: () => [],
    };
    const { tracer, tracing, errors } = setup({ propagator });
    const carrier: Record<string, string> = {};
    tracer.trace('outer', undefined, () => tracing.inject(carrier));
    assert.deepEqual(carrier, {});
    assert.equal(tracing.extract({ traceparent: 'x' }), Context.ROOT);
    assert.equal(errors.length, 2);
  });

  it('a propagator returning garbage: no remote parent made of it', () => {
    const propagator = {
      inject() {},
      extract: () => ({ spanContext: { traceId: 7, spanId: null } }),
      fields: () => [],
    } as unknown as Propagator;
    const { tracing, tracer } = setup({ propagator, processors: [new CollectingSpanProcessor()] });
    const ctx = tracing.extract({});
    assert.equal(ctx.span, undefined);
    const span = tracer.startSpan('child', { parent: ctx });
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
  });

  it('a context that is not a Context: spans started inside still work', () => {
    const collector = new CollectingSpanProcessor();
    const { tracer } = setup({ processors: [collector] });
    runWithContext({ span: 'nonsense' } as unknown as Context, () => {
      tracer.trace('inside', undefined, () => undefined);
      tracer.startActiveSpan('active', undefined, (s) => s.end());
    });
    assert.deepEqual(collector.spans.map((s) => s.name).sort(), ['active', 'inside']);
  });

  it('the callback’s own errors still propagate unchanged, sync and async', async () => {
    const { tracer } = setup({ processors: [throwingProcessor(new Error('processor'))] });
    const mine = { mine: true };
    assert.throws(() => tracer.trace('t', undefined, () => { throw mine; }), (e) => e === mine);
    await assert.rejects(tracer.trace('t', undefined, () => Promise.reject(mine)), (e) => e === mine);
  });

  it('a callback that is not a function, a scope that is not a string: nothing thrown', () => {
    const collector = new CollectingSpanProcessor();
    const { tracer, tracing } = setup({ processors: [collector] });
    assert.equal(tracer.trace('no-fn', undefined, undefined as never), undefined);
    assert.equal(tracer.startActiveSpan('no-fn-either', undefined, 42 as never), undefined);
    tracing.getTracer(Symbol('scope') as never, {} as never).startSpan('scoped').end();
    assert.deepEqual(collector.spans.map((s) => s.name), ['no-fn', 'no-fn-either', 'scoped']);
  });

  it('hostile arguments to span methods are counted, not thrown', () => {
    const collector = new CollectingSpanProcessor();
    const { tracer, tracing } = setup({ processors: [collector] });
    const hostile = new Proxy([] as unknown[], {
      get(target, key) {
        if (key === 'length') return 2;
        if (key === '0' || key === '1') throw new Error('getter');
        return Reflect.get(target, key);
      },
      ownKeys() {
        throw new Error('ownKeys');
      },
    });
    const unprintable = { toString: () => { throw new Error('toString'); } };
    const span = tracer.startSpan('h');
    span.setAttribute('a', hostile as never);
    span.setAttributes(hostile as never);
    span.addEvent(unprintable as never, hostile as never);
    span.addLink(hostile as never);
    span.recordException(unprintable);
    span.end();
    assert.equal(collector.spans.length, 1);
    assert.ok(tracing.counters.invalidAttributes >= 3);
  });
});

describe('setStatus follows the OpenTelemetry rules (Ok > Error > Unset)', () => {
  const statusAfter = (...calls: [string, string?][]) => {
    const collector = new CollectingSpanProcessor();
    const { tracer } = setup({ processors: [collector] });
    const span = tracer.startSpan('s');
    for (const [code, message] of calls) span.setStatus(code as never, message);
    span.end();
    return collector.spans[0]!.status;
  };

  it('unset after an error is ignored', () => {
    assert.deepEqual(statusAfter(['error', 'broken'], ['unset']), { code: 'error', message: 'broken' });
  });
  it('a later error replaces an earlier one (the last call is recorded)', () => {
    assert.deepEqual(statusAfter(['error', 'first'], ['error', 'second']), { code: 'error', message: 'second' });
  });
  it('ok overrides an error and is final', () => {
    assert.deepEqual(statusAfter(['error', 'x'], ['ok'], ['error', 'y'], ['unset']), { code: 'ok' });
  });
  it('the description of ok is ignored', () => {
    assert.deepEqual(statusAfter(['ok', 'fine']), { code: 'ok' });
  });
});
