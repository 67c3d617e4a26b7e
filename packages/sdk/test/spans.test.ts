import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing, type TracingOptions } from '../src/trace/tracing.js';
import { alwaysOff } from '../src/sampling/always-off.js';

function setup(options: Partial<TracingOptions> = {}) {
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: 'span-test', instance: '10.0.0.1:8080', processors: [collector], ...options });
  return { collector, tracing, tracer: tracing.getTracer('span-test', '1.0.0') };
}

describe('spans', () => {
  it('records identity, timing, kind, service, scope and parent/child links', async () => {
    const { tracer, collector } = setup();
    await tracer.trace('parent', { kind: 'server' }, async () => {
      const child = tracer.startSpan('child', { kind: 'client' });
      await new Promise((r) => setTimeout(r, 5));
      child.end();
    });
    const parent = collector.byName('parent');
    const child = collector.byName('child');
    assert.match(parent.traceId, /^[0-9a-f]{32}$/);
    assert.match(parent.spanId, /^[0-9a-f]{16}$/);
    assert.equal(child.traceId, parent.traceId);
    assert.equal(child.parentSpanId, parent.spanId);
    assert.equal(parent.parentSpanId, undefined);
    assert.equal(parent.kind, 'server');
    assert.equal(child.kind, 'client');
    assert.equal(parent.service, 'span-test');
    assert.equal(parent.instance, '10.0.0.1:8080');
    assert.deepEqual(parent.scope, { name: 'span-test', version: '1.0.0' });
    assert.ok(child.durationUs! >= 4000, `duration ${child.durationUs}`);
    assert.ok(Math.abs(parent.startUs / 1000 - Date.now()) < 5000);
    assert.ok(child.startUs >= parent.startUs);
  });

  it('bounds attribute count and value size, and counts what it cut', () => {
    const { tracer, collector, tracing } = setup({ limits: { attributeCountLimit: 3, attributeValueLengthLimit: 5, attributeArrayLengthLimit: 2 } });
    const span = tracer.startSpan('limits');
    span.setAttribute('a', 'abcdefgh').setAttribute('b', 1).setAttribute('c', true).setAttribute('d', 'dropped');
    span.setAttribute('a', 'xy'); // overwriting an existing key is not a new attribute
    span.end();
    const recorded = collector.byName('limits');
    assert.deepEqual(recorded.attributes, { a: 'xy', b: 1, c: true });
    assert.equal(recorded.dropped?.attributes, 1);
    assert.equal(tracing.counters.attributesDropped, 1);
    assert.equal(tracing.counters.attributesTruncated, 1);

    // Setting one key many times does not use up the limit.
    const repeated = tracer.startSpan('repeated');
    for (let i = 0; i < 10; i++) repeated.setAttribute('counter', i);
    repeated.setAttribute('x', 'x').setAttribute('y', 'y');
    repeated.setAttribute('z', 'over the limit');
    repeated.end();
    assert.deepEqual(collector.byName('repeated').attributes, { counter: 9, x: 'x', y: 'y' });

    const arrays = tracer.startSpan('arrays');
    arrays.setAttribute('list', ['abcdefgh', 'b', 'c']);
    arrays.end();
    assert.deepEqual(collector.byName('arrays').attributes, { list: ['abcde', 'b'] });
  });

  it('ignores and counts wrong attribute types instead of throwing', () => {
    const { tracer, collector, tracing } = setup();
    const span = tracer.startSpan('types');
    const bad: unknown[] = [undefined, null, {}, () => 1, Symbol('s'), 10n, [1, 'mixed'], [{}]];
    for (const [i, value] of bad.entries()) span.setAttribute(`k${i}`, value as never);
    span.setAttribute('' as string, 'empty key');
    span.setAttribute(42 as unknown as string, 'numeric key');
    span.setAttributes(null as never);
    span.setAttribute('bytes', new Uint8Array([1, 2]));
    span.setAttribute('ok', 'fine');
    span.end();
    const recorded = collector.byName('types');
    assert.deepEqual(Object.keys(recorded.attributes).sort(), ['bytes', 'ok']);
    assert.equal(tracing.counters.invalidAttributes, bad.length + 3);
  });

  it('records events, links, status and exceptions', () => {
    const { tracer, collector } = setup();
    const other = tracer.startSpan('other');
    other.end();
    const span = tracer.startSpan('rich', { links: [{ context: other, attributes: { why: 'batch' } }] });
    span.addEvent('cache miss', { key: 'shop:42' }, 1_700_000_000_000_000);
    span.recordException(new TypeError('boom'));
    span.recordException('a string thrown');
    span.setStatus('error', 'it failed');
    span.end();
    const recorded = collector.byName('rich');
    assert.deepEqual(recorded.links, [{ traceId: other.traceId, spanId: other.spanId, attributes: { why: 'batch' } }]);
    assert.deepEqual(recorded.events[0], { timeUs: 1_700_000_000_000_000, name: 'cache miss', attributes: { key: 'shop:42' } });
    assert.equal(recorded.events[1]!.name, 'exception');
    assert.equal(recorded.events[1]!.attributes!['exception.type'], 'TypeError');
    assert.equal(recorded.events[1]!.attributes!['exception.message'], 'boom');
    assert.match(String(recorded.events[1]!.attributes!['exception.stacktrace']), /TypeError: boom/);
    assert.equal(recorded.events[2]!.attributes!['exception.message'], 'a string thrown');
    assert.deepEqual(recorded.status, { code: 'error', message: 'it failed' });
  });

  it('keeps a deliberate OK status over a later error', () => {
    const { tracer, collector } = setup();
    const span = tracer.startSpan('ok-first');
    span.setStatus('ok').setStatus('error', 'late');
    span.end();
    assert.deepEqual(collector.byName('ok-first').status, { code: 'ok' });
  });

  it('trace() ends the span and marks a rejection as an error, rethrowing it unchanged', async () => {
    const { tracer, collector } = setup();
    const failure = new Error('db down');
    await assert.rejects(
      tracer.trace('failing', undefined, async () => {
        await Promise.resolve();
        throw failure;
      }),
      (e) => e === failure,
    );
    assert.throws(() => tracer.trace('sync-failing', undefined, () => { throw failure; }), (e) => e === failure);
    for (const name of ['failing', 'sync-failing']) {
      const span = collector.byName(name);
      assert.equal(span.status.code, 'error');
      assert.equal(span.events[0]!.name, 'exception');
      assert.notEqual(span.durationUs, undefined);
    }
  });

  it('ignores and counts ending twice and changes after end', () => {
    const { tracer, collector, tracing } = setup();
    const span = tracer.startSpan('ended');
    span.setAttribute('before', 1);
    span.end();
    const duration = collector.byName('ended').durationUs;
    span.end();
    span.setAttribute('after', 1);
    span.addEvent('late');
    span.setStatus('error');
    span.updateName('renamed');
    assert.equal(collector.spans.length, 1);
    const recorded = collector.byName('ended');
    assert.equal(recorded.durationUs, duration);
    assert.deepEqual(recorded.attributes, { before: 1 });
    assert.equal(recorded.events.length, 0);
    assert.equal(recorded.status.code, 'unset');
    assert.equal(tracing.counters.endedTwice, 1);
    assert.equal(tracing.counters.changesAfterEnd, 4);
  });

  it('redacts values of sensitive keys (defaults and configured), keeping numbers', () => {
    const { tracer, collector } = setup({ extraSensitiveKeys: ['shop.owner_phone'] });
    const span = tracer.startSpan('secrets', { attributes: { 'db.password': 'hunter2' } });
    span.setAttributes({
      'http.request.header.authorization': 'Bearer abc',
      'user.api_key': ['k1', 'k2'],
      'shop.owner_phone': '+49 30 1234',
      'llm.total_tokens': 512,
      'shop.id': '42',
    });
    span.addEvent('login', { 'session_id': 's-123', user: 'ann' });
    span.end();
    const recorded = collector.byName('secrets');
    assert.deepEqual(recorded.attributes, {
      'db.password': '[REDACTED]',
      'http.request.header.authorization': '[REDACTED]',
      'user.api_key': '[REDACTED]',
      'shop.owner_phone': '[REDACTED]',
      'llm.total_tokens': 512,
      'shop.id': '42',
    });
    assert.deepEqual(recorded.events[0]!.attributes, { session_id: '[REDACTED]', user: 'ann' });
  });

  it('reports start records when enabled, before the span ends', () => {
    const { tracer, collector } = setup({ startRecords: true });
    const span = tracer.startSpan('long job', { attributes: { job: 'nightly' } });
    assert.equal(collector.startRecords.length, 1);
    const start: Span = collector.startRecords[0]!;
    assert.equal(start.durationUs, undefined);
    assert.equal(start.spanId, span.spanId);
    assert.equal(start.attributes['job'], 'nightly');
    span.end();
    const noStart = tracer.startSpan('quick', { startRecord: false });
    noStart.end();
    assert.equal(collector.startRecords.length, 1);
  });

  it('records nothing for unsampled spans but still propagates identity', () => {
    const { tracer, collector, tracing } = setup({ sampler: alwaysOff() });
    const root = tracer.startSpan('unsampled');
    root.setAttribute('x', 1).addEvent('e').setStatus('error');
    const child = tracer.startSpan('child', { parent: root });
    child.end();
    root.end();
    assert.equal(collector.spans.length, 0);
    assert.equal(root.isRecording(), false);
    assert.match(root.traceId, /^[0-9a-f]{32}$/);
    assert.equal(child.traceId, root.traceId);
    assert.equal(root.traceFlags & 1, 0);
    assert.equal(child.rpcid, '0.1');
    assert.equal(tracing.counters.spansUnsampled, 2);
  });

  it('stops recording after shutdown', async () => {
    const { tracer, collector, tracing } = setup();
    await tracing.shutdown();
    tracer.startSpan('after shutdown').end();
    assert.equal(collector.spans.length, 0);
  });
});

describe('spans: bad options never throw', () => {
  it('ignores null links and a parent that is not a context, span or span context', () => {
    const collector = new CollectingSpanProcessor();
    const tracing = createTracing({ service: 'bad-options', processors: [collector] });
    const tracer = tracing.getTracer();
    const other = tracer.startSpan('other');
    other.end();
    tracer.startSpan('links', { links: [null as never, undefined as never, { context: other }] }).end();
    for (const parent of [42, 'abc', { traceId: 'not hex' }, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }] as never[]) {
      const span = tracer.startSpan('odd parent', { parent });
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      span.end();
    }
    assert.equal(collector.byName('links').links.length, 1);
    assert.ok(collector.spans.filter((s) => s.name === 'odd parent').every((s) => s.parentSpanId === undefined));
    assert.equal(tracing.counters.invalidAttributes, 6);
  });
});
