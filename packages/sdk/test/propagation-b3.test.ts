import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { b3Propagator, parseB3Single } from '../src/propagation/b3.js';
import type { Propagated, SpanContext } from '../src/types.js';
import { extractFrom, injectInto } from './propagation-helpers.js';

const b3 = b3Propagator();
const T128 = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const SPAN = 'e457b5a2e4d86bd1';
const PARENT = '05e3ac9a4f6e3b90';

const single = (value: string | string[]) => extractFrom(b3, { b3: value }).spanContext;
const multi = (headers: Record<string, string | string[]>) => extractFrom(b3, headers).spanContext;
const remote = (traceId: string, traceFlags: number, extra: Partial<SpanContext> = {}): SpanContext => ({
  traceId,
  spanId: SPAN,
  traceFlags,
  isRemote: true,
  ...extra,
});

function assertNothing(headers: Record<string, string | string[]>): void {
  const base: Propagated = {};
  assert.equal(extractFrom(b3, headers, base), base, JSON.stringify(headers));
}

void describe('b3 single header', () => {
  void test('{trace}-{span}-{sampled}-{parent} with a 128-bit trace id', () => {
    assert.deepEqual(single(`${T128}-${SPAN}-1-${PARENT}`), remote(T128, 1));
  });

  void test('a 64-bit trace id stays 16 hex', () => {
    assert.deepEqual(single(`${T64}-${SPAN}-1`), remote(T64, 1));
  });

  void test('a 128-bit trace id whose upper half is zero is the 64-bit id', () => {
    assert.equal(single(`0000000000000000${T64}-${SPAN}-1`)?.traceId, T64);
  });

  void test('sampling state 0 is not sampled, d is debug (and sampled)', () => {
    assert.deepEqual(single(`${T128}-${SPAN}-0`), remote(T128, 0));
    assert.deepEqual(single(`${T128}-${SPAN}-d`), remote(T128, 1, { debug: true }));
  });

  void test('no sampling state (deferred) extracts as not sampled', () => {
    assert.deepEqual(single(`${T128}-${SPAN}`), remote(T128, 0));
  });

  void test('a sampling state alone (b3: 0, 1, d) carries no trace: nothing extracted', () => {
    for (const v of ['0', '1', 'd']) assertNothing({ b3: v });
  });

  void test('invalid values extract nothing', () => {
    for (const v of [
      `${T128.toUpperCase()}-${SPAN}-1`,
      `${T128}-${SPAN.toUpperCase()}-1`,
      `${T128.slice(1)}-${SPAN}-1`,
      `${T128}0-${SPAN}-1`,
      `${T64.slice(1)}-${SPAN}-1`,
      `${'0'.repeat(32)}-${SPAN}-1`,
      `${'0'.repeat(16)}-${SPAN}-1`,
      `${T128}-${'0'.repeat(16)}-1`,
      `${T128}-${SPAN.slice(1)}-1`,
      `${T128}-${SPAN}-x`,
      `${T128}-${SPAN}-10`,
      `${T128}-${SPAN}-`,
      `${T128}-${SPAN}-1-`,
      `${T128}-${SPAN}-1-${PARENT.slice(1)}`,
      `${T128}-${SPAN}-1-${'0'.repeat(16)}`,
      `${T128}-${SPAN}-1-${PARENT}-extra`,
      `${T128}_${SPAN}-1`,
      '',
      '-',
      'garbage',
    ]) {
      assert.equal(parseB3Single(v), undefined, v);
      assertNothing({ b3: v });
    }
  });

  void test('optional whitespace around the value is allowed', () => {
    assert.equal(single(` \t${T128}-${SPAN}-1 `)?.traceId, T128);
  });

  void test('header name is matched in any case', () => {
    assert.equal(extractFrom(b3, { B3: `${T128}-${SPAN}-1` }).spanContext?.traceId, T128);
  });

  void test('when repeated, the first value wins', () => {
    assert.equal(single([`${T128}-${SPAN}-1`, `${T64}-${SPAN}-1`])?.traceId, T128);
    assert.equal(single(`${T128}-${SPAN}-1, ${T64}-${SPAN}-1`)?.traceId, T128);
  });

  void test('a value longer than 512 characters is ignored', () => {
    assertNothing({ b3: `${T128}-${SPAN}-1${' '.repeat(600)}` });
  });
});

void describe('b3 multi headers', () => {
  const ids = { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN };

  void test('trace id, span id, parent span id and sampled', () => {
    assert.deepEqual(multi({ ...ids, 'x-b3-parentspanid': PARENT, 'x-b3-sampled': '1' }), remote(T128, 1));
  });

  void test('header names are matched in any case', () => {
    assert.deepEqual(multi({ 'X-B3-TraceId': T64, 'X-B3-SpanId': SPAN, 'X-B3-Sampled': '1' }), remote(T64, 1));
  });

  void test('X-B3-Sampled: 1/0 and the legacy true/false', () => {
    assert.equal(multi({ ...ids, 'x-b3-sampled': '1' })?.traceFlags, 1);
    assert.equal(multi({ ...ids, 'x-b3-sampled': 'true' })?.traceFlags, 1);
    assert.equal(multi({ ...ids, 'x-b3-sampled': '0' })?.traceFlags, 0);
    assert.equal(multi({ ...ids, 'x-b3-sampled': 'false' })?.traceFlags, 0);
  });

  void test('absent X-B3-Sampled (deferred) extracts as not sampled', () => {
    assert.deepEqual(multi(ids), remote(T128, 0));
  });

  void test('an unknown X-B3-Sampled value makes the headers invalid', () => {
    assertNothing({ ...ids, 'x-b3-sampled': 'yes' });
    assertNothing({ ...ids, 'x-b3-sampled': '2' });
  });

  void test('X-B3-Flags: 1 is debug and implies sampled; other values are not debug', () => {
    assert.deepEqual(multi({ ...ids, 'x-b3-flags': '1' }), remote(T128, 1, { debug: true }));
    assert.deepEqual(multi({ ...ids, 'x-b3-flags': '0', 'x-b3-sampled': '0' }), remote(T128, 0));
  });

  void test('trace id and span id are both required and must be valid', () => {
    assertNothing({ 'x-b3-traceid': T128 });
    assertNothing({ 'x-b3-spanid': SPAN });
    assertNothing({ 'x-b3-traceid': T128.toUpperCase(), 'x-b3-spanid': SPAN });
    assertNothing({ 'x-b3-traceid': `${T128}0`, 'x-b3-spanid': SPAN });
    assertNothing({ 'x-b3-traceid': '0'.repeat(16), 'x-b3-spanid': SPAN });
    assertNothing({ 'x-b3-traceid': T128, 'x-b3-spanid': '0'.repeat(16) });
    assertNothing({ 'x-b3-traceid': `${T64}-1`, 'x-b3-spanid': SPAN });
  });

  void test('a parent span id, when present, must be valid', () => {
    assertNothing({ ...ids, 'x-b3-parentspanid': 'xyz' });
    assertNothing({ ...ids, 'x-b3-parentspanid': '0'.repeat(16) });
  });

  void test('when repeated, the first value wins', () => {
    assert.equal(multi({ 'x-b3-traceid': [T128, T64], 'x-b3-spanid': SPAN })?.traceId, T128);
    assert.equal(multi({ 'x-b3-traceid': `${T64}, ${T128}`, 'x-b3-spanid': SPAN })?.traceId, T64);
  });
});

void describe('b3 precedence', () => {
  void test('the single header wins over the multi headers', () => {
    assert.equal(multi({ b3: `${T64}-${SPAN}-1`, 'x-b3-traceid': T128, 'x-b3-spanid': SPAN })?.traceId, T64);
  });

  void test('an invalid or sampling-only single header falls back to the multi headers', () => {
    assert.equal(multi({ b3: 'garbage', 'x-b3-traceid': T128, 'x-b3-spanid': SPAN })?.traceId, T128);
    assert.equal(multi({ b3: '0', 'x-b3-traceid': T128, 'x-b3-spanid': SPAN })?.traceId, T128);
  });
});

void describe('b3 injection', () => {
  const sc = (over: Partial<SpanContext> = {}): Propagated => ({ spanContext: { traceId: T128, spanId: SPAN, traceFlags: 1, ...over } });

  void test('single header by default, with the sampling decision and no parent', () => {
    assert.deepEqual(injectInto(b3, sc()), { b3: `${T128}-${SPAN}-1` });
    assert.deepEqual(injectInto(b3, sc({ traceFlags: 0 })), { b3: `${T128}-${SPAN}-0` });
    assert.deepEqual(injectInto(b3, sc({ debug: true })), { b3: `${T128}-${SPAN}-d` });
  });

  void test('multi headers on request; debug sends X-B3-Flags and no X-B3-Sampled', () => {
    const multiB3 = b3Propagator({ inject: 'multi' });
    assert.deepEqual(injectInto(multiB3, sc()), { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
    assert.deepEqual(injectInto(multiB3, sc({ traceFlags: 0 })), { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' });
    assert.deepEqual(injectInto(multiB3, sc({ debug: true })), { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' });
  });

  void test('both encodings on request', () => {
    assert.deepEqual(injectInto(b3Propagator({ inject: 'both' }), sc()), {
      b3: `${T128}-${SPAN}-1`,
      'x-b3-traceid': T128,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '1',
    });
  });

  void test('a 64-bit trace id is written as 16 hex', () => {
    assert.deepEqual(injectInto(b3, sc({ traceId: T64 })), { b3: `${T64}-${SPAN}-1` });
  });

  void test('invalid ids or no span context write nothing', () => {
    assert.deepEqual(injectInto(b3, sc({ traceId: 'nope' })), {});
    assert.deepEqual(injectInto(b3, sc({ spanId: '0'.repeat(16) })), {});
    assert.deepEqual(injectInto(b3, { rootTraceId: T128 }), {});
  });

  void test('fields follow the encoding; an unknown encoding means single', () => {
    assert.deepEqual(b3.fields(), ['b3']);
    assert.deepEqual(b3Propagator({ inject: 'multi' }).fields(), ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags']);
    assert.equal(b3Propagator({ inject: 'both' }).fields().length, 6);
    assert.deepEqual(b3Propagator({ inject: 'bogus' as 'single' }).fields(), ['b3']);
  });

  void test('inject then extract round-trips single and multi', () => {
    for (const encoding of ['single', 'multi'] as const) {
      const p = b3Propagator({ inject: encoding });
      for (const over of [{}, { traceFlags: 0 }, { debug: true }, { traceId: T64 }]) {
        const value = sc(over);
        const back = extractFrom(p, injectInto(p, value)).spanContext;
        const expected: SpanContext = { ...value.spanContext!, isRemote: true };
        if (expected.debug) expected.traceFlags = 1;
        assert.deepEqual(back, expected, `${encoding} ${JSON.stringify(over)}`);
      }
    }
  });
});
