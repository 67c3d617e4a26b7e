import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSchemeName } from '../src/stages/target.js';
import { stagesFor, type Stages } from '../src/stages/stages.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';

function setup() {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: 'shop-sync', processors: [collector] });
  return { collector, stages: stagesFor(tracing) };
}

const shop = { type: 'shop', key: '42', version: 7 };

/** Calls every helper with the given (possibly garbage) arguments; returns how many spans ended. */
function callAll(stages: Stages, entity: unknown, detail: unknown, fn: unknown, options: unknown): void {
  const e = entity as never;
  const d = detail as never;
  const f = fn as never;
  const o = options as never;
  stages.receive(e, f, o);
  stages.process(e, f, o);
  stages.write(e, d, f, o);
  stages.skip(e, d, f, o);
  stages.enqueue(e, d, f, o);
  stages.dequeue(e, f, o);
  stages.consume(e, f, o);
  stages.markStage(e, d, e, d);
}

describe('stage API with bad input', () => {
  it('records the valid parts of an entity and counts the call once', () => {
    const { collector, stages } = setup();
    stages.process({ type: '', key: 42, version: Number.NaN }, () => undefined);
    stages.process({ type: 'shop', key: { id: 1 }, version: true } as never, () => undefined);
    stages.process(null as never, () => undefined);
    stages.process('shop 42' as never, () => undefined);
    assert.deepEqual(collector.spans[0]!.attributes, { 'linktrace.stage': 'process', 'linktrace.entity.key': '42' });
    assert.equal(collector.spans[0]!.name, 'process');
    assert.deepEqual(collector.spans[1]!.attributes, { 'linktrace.stage': 'process', 'linktrace.entity.type': 'shop' });
    assert.deepEqual(collector.spans[2]!.attributes, { 'linktrace.stage': 'process' });
    assert.deepEqual(collector.spans[3]!.attributes, { 'linktrace.stage': 'process' });
    assert.equal(stages.counters.invalidEntities, 4);
  });

  it('survives an entity whose getters throw', () => {
    const { collector, stages } = setup();
    const hostile = {
      type: 'shop',
      get key(): string {
        throw new Error('lazy row not loaded');
      },
    };
    assert.equal(
      stages.receive(hostile as never, () => 'ran'),
      'ran',
    );
    assert.equal(stages.counters.invalidEntities, 1);
    assert.deepEqual(collector.spans[0]!.attributes, { 'linktrace.stage': 'receive' });
  });

  it('keeps a target that is not scheme:name as given but counts it; drops a non-string target', () => {
    const { collector, stages } = setup();
    stages.write(shop, 'user_shop', () => undefined);
    stages.enqueue(shop, '1mq:x', () => undefined);
    stages.write(shop, 'mysql:', () => undefined);
    stages.write(shop, 42 as never, () => undefined);
    stages.enqueue(shop, '', () => undefined);
    const targets = collector.spans.map((s) => s.attributes['linktrace.target']);
    assert.deepEqual(targets, ['user_shop', '1mq:x', 'mysql:', undefined, undefined]);
    assert.equal(stages.counters.invalidTargets, 5);
    assert.equal(collector.spans[3]!.name, 'write shop');
  });

  it('counts a skip without a reason and records no reason', () => {
    const { collector, stages } = setup();
    stages.skip(shop, '');
    stages.skip(shop, undefined as never, () => undefined);
    assert.equal(stages.counters.invalidSkipReasons, 2);
    for (const span of collector.spans) assert.equal(span.attributes['linktrace.skip.reason'], undefined);
  });

  it('records a marker span when a callback is missing, and ignores options of the wrong shape', () => {
    const { collector, stages } = setup();
    assert.equal(stages.write(shop, 'mysql:t', undefined as never), undefined);
    assert.equal(stages.process(shop, 'not a function' as never), undefined);
    assert.equal(stages.counters.invalidCalls, 2);
    assert.equal(collector.spans.length, 2);
    assert.equal(
      stages.dequeue(shop, () => 'ok', {
        kind: 'sideways' as never,
        parent: 17 as never,
        links: 'x' as never,
        attributes: 5 as never,
        name: 3 as never,
        relation: 'maybe' as never,
        headers: {},
      }),
      'ok',
    );
    const span = collector.spans[2]!;
    assert.equal(span.name, 'dequeue shop');
    assert.equal(span.kind, 'consumer');
    assert.equal(span.parentSpanId, undefined);
    assert.equal(stages.counters.invalidCalls, 3);
    assert.equal(stages.consume(shop, () => 'still runs', 'options' as never), 'still runs');
    assert.equal(stages.counters.invalidCalls, 4);
  });

  it('a carrier whose getter throws reads as no upstream context, and the stage still runs', () => {
    const { collector, stages } = setup();
    const getter = {
      get(): string {
        throw new Error('carrier closed');
      },
      keys: () => [],
    };
    assert.equal(stages.receive(shop, () => 1, { headers: {}, getter }), 1);
    assert.equal(collector.spans.length, 1);
    assert.equal(collector.spans[0]!.parentSpanId, undefined);
    const tracer = createTracing({ service: 'x' }).getTracer();
    const propagator = {
      inject() {},
      extract(): never {
        throw new Error('broken propagator');
      },
      fields: () => [],
    };
    assert.equal(stagesFor(tracer, { propagator }).receive(shop, () => 2, { headers: {} }), 2);
    const custom = stagesFor(tracer, { propagator });
    custom.receive(shop, () => undefined, { headers: {} });
    assert.equal(custom.counters.invalidCalls, 1);
    assert.equal(stages.counters.invalidCalls, 0);
    stages.inject({}, {
      set() {
        throw new Error('read-only');
      },
    });
    assert.equal(stages.counters.invalidCalls, 0, 'nothing to inject outside a span');
    stages.process(shop, () =>
      stages.inject({}, {
        set() {
          throw new Error('read-only');
        },
      }),
    );
    // The propagator itself swallows a setter's throw (its contract): nothing reaches the caller.
    assert.equal(collector.spans.length, 2);
  });

  it('never throws on arbitrary input (property)', () => {
    const anything = fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true });
    const entity = fc.oneof(
      anything,
      fc.record({ type: anything, key: anything, version: anything }, { requiredKeys: [] }),
    );
    const fn = fc.constantFrom(undefined, null, 5, () => 1, () => Promise.resolve(2));
    const options = fc.oneof(anything, fc.record({ kind: anything, parent: anything, links: anything, attributes: anything, headers: anything, getter: anything, relation: anything, name: anything, startRecord: anything }, { requiredKeys: [] }));
    const { stages } = setup();
    fc.assert(
      fc.property(entity, anything, fn, options, (e, d, f, o) => {
        callAll(stages, e, d, f, o);
      }),
      { numRuns: 300 },
    );
  });

  it('isSchemeName follows RFC 3986 schemes', () => {
    for (const ok of ['mysql:users', 'http:shop-api', 'mq:shop.changed', 'x-db+v2.1:n', 'A:b', 'http://host/x']) assert.equal(isSchemeName(ok), true, ok);
    for (const bad of ['', ':x', 'mysql:', 'my sql:x', '1db:x', 'db_1:x', 'users', 'é:x']) assert.equal(isSchemeName(bad), false, bad);
  });
});
