/**
 * Property: whatever the configuration — one or several processors, a sampler, a propagator, an
 * exporter behind a batch processor, each of which may throw an Error, throw a non-Error value,
 * return a rejected promise or return garbage — no sequence of public SDK calls throws into the
 * caller, every promise the SDK returns resolves, and the caller's own callback errors propagate
 * unchanged (the very same value).
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import fc from 'fast-check';
import { Context } from '../src/context/context.js';
import { bindContext, runWithContext } from '../src/context/context-manager.js';
import { BatchSpanProcessor } from '../src/export/batch-span-processor.js';
import { stagesFor } from '../src/stages/stages.js';
import type { SpanHandle } from '../src/trace/span-handle.js';
import { createTracing } from '../src/trace/tracing.js';
import type { ExportResult, Propagator, Sampler, SpanExporter, SpanProcessor } from '../src/types.js';

type Fault = 'none' | 'throwError' | 'throwString' | 'throwUndefined' | 'reject' | 'rejectNonError' | 'garbage';
const FAULTS: Fault[] = ['none', 'throwError', 'throwString', 'throwUndefined', 'reject', 'rejectNonError', 'garbage'];
const fault = fc.constantFrom(...FAULTS);

/** Acts out a fault: throws, or returns what an async method of that fault returns (undefined: behave). */
function act(f: Fault): Promise<never> | { garbage: true } | undefined {
  switch (f) {
    case 'throwError':
      throw new Error('plugin failure');
    case 'throwString':
      throw 'plugin failure as a string';
    case 'throwUndefined':
      throw undefined;
    case 'reject':
      return Promise.reject(new Error('plugin rejection'));
    case 'rejectNonError':
      return Promise.reject(Symbol('odd'));
    case 'garbage':
      return { garbage: true };
    default:
      return undefined;
  }
}

// A synchronous method's return value is ignored by contract: a rejected promise returned from one is
// the plug-in's own unhandled rejection, not something the SDK can catch. Those throw instead.
const syncFault = fc.constantFrom<Fault>('none', 'throwError', 'throwString', 'throwUndefined', 'garbage');
const processorArb = fc.record({ onStart: syncFault, onEnd: syncFault, forceFlush: fault, shutdown: fault });
const exporterArb = fc.record({ export: fault, shutdown: fault });

function faultyProcessor(f: { onStart: Fault; onEnd: Fault; forceFlush: Fault; shutdown: Fault }): SpanProcessor {
  return {
    onStart: () => void act(f.onStart),
    onEnd: () => void act(f.onEnd),
    forceFlush: () => (act(f.forceFlush) ?? Promise.resolve()) as Promise<void>,
    shutdown: () => (act(f.shutdown) ?? Promise.resolve()) as Promise<void>,
  };
}

function faultyExporter(f: { export: Fault; shutdown: Fault }): SpanExporter {
  return {
    export: () => (act(f.export) ?? Promise.resolve<ExportResult>({ code: 'success' })) as Promise<ExportResult>,
    shutdown: () => (act(f.shutdown) ?? Promise.resolve()) as Promise<void>,
  };
}

function faultySampler(shouldSample: Fault, onEnd: Fault, sample: boolean): Sampler {
  return {
    shouldSample: () => (act(shouldSample) === undefined ? sample : (true as boolean)),
    onSampledSpanEnd: () => void act(onEnd),
    toString: () => 'faulty',
  };
}

function faultyPropagator(inject: Fault, extract: Fault): Propagator {
  return {
    inject: (value, carrier, setter) => {
      void act(inject);
      if (value.spanContext) setter.set(carrier, 'traceparent', `00-${value.spanContext.traceId}-${value.spanContext.spanId}-01`);
    },
    extract: (base) => (act(extract) as never) ?? base,
    fields: () => ['traceparent'],
  };
}

const HOSTILE = { toString: () => { throw new Error('hostile'); } };
const oddValue = fc.constantFrom<unknown>(undefined, null, 0, 'x', '', HOSTILE, Symbol('s'), [1, 'a'], { a: 1 }, NaN, -1);

type Call =
  | { op: 'start'; name: unknown; parent: 'active' | 'none' | 'odd'; kind: unknown }
  | { op: 'span'; method: 'setAttribute' | 'setAttributes' | 'addEvent' | 'addLink' | 'setStatus' | 'recordException' | 'updateName' | 'end'; a: unknown; b: unknown }
  | { op: 'trace'; outcome: 'return' | 'throw' | 'reject' | 'resolve'; thrown: unknown }
  | { op: 'active'; outcome: 'return' | 'throw' }
  | { op: 'inject' }
  | { op: 'extract'; carrier: unknown }
  | { op: 'stage'; outcome: 'return' | 'throw' }
  | { op: 'context'; ctx: unknown }
  | { op: 'flush' }
  | { op: 'misuse'; value: unknown };

const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ op: fc.constant('start' as const), name: fc.oneof(fc.string(), oddValue), parent: fc.constantFrom('active' as const, 'none' as const, 'odd' as const), kind: fc.constantFrom<unknown>(undefined, 'server', 'client', 'nonsense', 3) }),
  fc.record({
    op: fc.constant('span' as const),
    method: fc.constantFrom('setAttribute' as const, 'setAttributes' as const, 'addEvent' as const, 'addLink' as const, 'setStatus' as const, 'recordException' as const, 'updateName' as const, 'end' as const),
    a: fc.oneof(fc.constantFrom<unknown>('error', 'ok', 'unset', 'key'), oddValue),
    b: oddValue,
  }),
  fc.record({ op: fc.constant('trace' as const), outcome: fc.constantFrom('return' as const, 'throw' as const, 'reject' as const, 'resolve' as const), thrown: oddValue.filter((v) => v !== HOSTILE) }),
  fc.record({ op: fc.constant('active' as const), outcome: fc.constantFrom('return' as const, 'throw' as const) }),
  fc.constant<Call>({ op: 'inject' }),
  fc.record({ op: fc.constant('extract' as const), carrier: fc.constantFrom<unknown>({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, {}, null, 5) }),
  fc.record({ op: fc.constant('stage' as const), outcome: fc.constantFrom('return' as const, 'throw' as const) }),
  fc.record({ op: fc.constant('context' as const), ctx: fc.constantFrom<unknown>(null, 5, { span: 'x' }, Context.ROOT) }),
  fc.constant<Call>({ op: 'flush' }),
  fc.record({ op: fc.constant('misuse' as const), value: oddValue }),
);

const configArb = fc.record({
  processors: fc.array(processorArb, { minLength: 1, maxLength: 3 }),
  exporter: fc.option(exporterArb, { nil: undefined }),
  shouldSample: syncFault,
  onSampledSpanEnd: syncFault,
  sample: fc.boolean(),
  inject: syncFault,
  extract: syncFault,
  startRecords: fc.boolean(),
});

/** The caller's own error: a fresh object, so that "unchanged" means the very same value. */
class Mine {
  constructor(readonly payload: unknown) {}
}

it('no sequence of public calls throws into the caller, whatever throws inside', async () => {
  // Nothing may escape asynchronously either (a timer or a promise chain of the export pipeline).
  const escaped: unknown[] = [];
  const onEscape = (e: unknown): void => void escaped.push(e);
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  try {
    await runProperty();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  }
  assert.deepEqual(escaped, []);
});

async function runProperty(): Promise<void> {
  await fc.assert(
    fc.asyncProperty(configArb, fc.array(callArb, { maxLength: 40 }), async (config, calls) => {
      const reported: string[] = [];
      const processors = config.processors.map(faultyProcessor);
      if (config.exporter !== undefined) {
        processors.push(
          new BatchSpanProcessor(faultyExporter(config.exporter), {
            onError: () => {},
            flushOnExit: false,
            maxBatchSize: 2,
            scheduleDelayMs: 1,
            maxAttempts: 2,
            retryBaseMs: 1,
            retryMaxMs: 2,
            flushTimeoutMs: 200,
          }),
        );
      }
      const tracing = createTracing({
        service: 'property',
        processors,
        sampler: faultySampler(config.shouldSample, config.onSampledSpanEnd, config.sample),
        propagator: faultyPropagator(config.inject, config.extract),
        startRecords: config.startRecords,
        onError: (e) => reported.push(e.message),
      });
      const tracer = tracing.getTracer('property');
      const stages = stagesFor(tracing);
      const spans: SpanHandle[] = [];
      let ctx: Context = Context.ROOT;

      for (const call of calls) {
        switch (call.op) {
          case 'start': {
            const parent = call.parent === 'none' ? null : call.parent === 'odd' ? ({ traceId: 5 } as never) : undefined;
            spans.push(tracer.startSpan(call.name as string, { parent, kind: call.kind as never }));
            break;
          }
          case 'span': {
            const span = spans[spans.length - 1];
            if (span === undefined) break;
            (span[call.method] as (a: unknown, b: unknown) => unknown)(call.a, call.b);
            break;
          }
          case 'trace': {
            const mine = new Mine(call.thrown);
            if (call.outcome === 'throw') {
              assert.throws(() => tracer.trace('t', undefined, () => { throw mine; }), (e) => e === mine);
            } else if (call.outcome === 'reject') {
              await assert.rejects(tracer.trace('t', undefined, () => Promise.reject(mine)), (e) => e === mine);
            } else if (call.outcome === 'resolve') {
              assert.equal(await tracer.trace('t', undefined, () => Promise.resolve(mine)), mine);
            } else {
              assert.equal(tracer.trace('t', undefined, () => mine), mine);
            }
            break;
          }
          case 'active': {
            const mine = new Mine(1);
            if (call.outcome === 'throw') {
              assert.throws(() => tracer.startActiveSpan('a', undefined, (s) => { s.end(); throw mine; }), (e) => e === mine);
            } else {
              assert.equal(tracer.startActiveSpan('a', undefined, (s) => (s.end(), mine)), mine);
            }
            break;
          }
          case 'inject':
            tracer.trace('out', undefined, () => tracing.inject({}));
            stages.inject({});
            break;
          case 'extract':
            ctx = tracing.extract(call.carrier);
            tracer.startSpan('from-extract', { parent: ctx }).end();
            stages.receive({ type: 'shop', key: 1 }, () => undefined, { headers: call.carrier as never });
            break;
          case 'stage': {
            const mine = new Mine(2);
            if (call.outcome === 'throw') {
              assert.throws(() => stages.write({ type: 'shop', key: 1 }, 'db:shops', () => { throw mine; }), (e) => e === mine);
            } else {
              assert.equal(stages.process({ type: 'shop', key: 1 }, () => mine), mine);
            }
            break;
          }
          case 'context':
            runWithContext(call.ctx as Context, () => tracer.trace('in-ctx', undefined, () => undefined));
            bindContext(() => tracer.startSpan('bound').end(), call.ctx as Context)();
            break;
          case 'flush':
            await tracing.forceFlush();
            break;
          case 'misuse':
            // Values where a callback, a scope or options belong.
            tracer.trace('misuse', call.value as never, call.value as never);
            tracer.startActiveSpan('misuse', undefined, call.value as never);
            tracing.getTracer(call.value as never, call.value as never).startSpan('scoped', call.value as never).end();
            tracing.inject(call.value, undefined, call.value as never);
            tracing.extract(call.value, undefined, call.value as never);
            break;
        }
      }
      for (const span of spans) span.end();
      await tracing.forceFlush();
      await tracing.shutdown();
      await tracing.shutdown();
      // Each guarded place is reported once, however often it threw.
      const places = reported.map((m) => m.split(' threw')[0]);
      assert.equal(new Set(places).size, places.length, places.join(' | '));
    }),
    { numRuns: 300 },
  );
}
