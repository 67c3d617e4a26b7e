import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTraceparent, parseTraceparent, w3cTraceContextPropagator } from '../src/propagation/w3c-trace-context.js';
import type { Propagated } from '../src/types.js';
import { extractFrom, injectInto, SPAN_ID, TRACE_ID, VALID_TRACEPARENT } from './propagation-helpers.js';

const w3c = w3cTraceContextPropagator();

/** The trace id extracted from one traceparent value, or undefined when it was rejected. */
function traceIdOf(traceparent: string | string[]): string | undefined {
  return extractFrom(w3c, { traceparent }).spanContext?.traceId;
}

function assertRejected(traceparent: string | string[]): void {
  const base: Propagated = { rootTraceId: 'kept' };
  const out = extractFrom(w3c, { traceparent, tracestate: 'foo=1' }, base);
  assert.equal(out, base, `expected ${JSON.stringify(traceparent)} to be rejected`);
}

void describe('traceparent extraction', () => {
  void test('a valid version 00 header gives a remote span context', () => {
    const out = extractFrom(w3c, { traceparent: VALID_TRACEPARENT });
    assert.deepEqual(out.spanContext, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
  });

  void test('trace-flags 00 means not sampled', () => {
    assert.equal(extractFrom(w3c, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` }).spanContext?.traceFlags, 0);
  });

  void test('header name is matched in any case', () => {
    for (const name of ['TraceParent', 'TRACEPARENT', 'traceParent']) {
      assert.equal(extractFrom(w3c, { [name]: VALID_TRACEPARENT }).spanContext?.traceId, TRACE_ID, name);
    }
  });

  void test('other header names (trace-parent, trace.parent) are not traceparent', () => {
    assert.equal(extractFrom(w3c, { 'trace-parent': VALID_TRACEPARENT }).spanContext, undefined);
    assert.equal(extractFrom(w3c, { 'trace.parent': VALID_TRACEPARENT }).spanContext, undefined);
  });

  void test('version 00 with anything after the flags is invalid', () => {
    assertRejected(`${VALID_TRACEPARENT}.`);
    assertRejected(`${VALID_TRACEPARENT}-what-the-future-will-be-like`);
  });

  void test('a higher version is parsed for its first four fields', () => {
    assert.equal(traceIdOf(`cc-${TRACE_ID}-${SPAN_ID}-01`), TRACE_ID);
    assert.equal(traceIdOf(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be-like`), TRACE_ID);
    assert.equal(extractFrom(w3c, { traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-x` }).spanContext?.traceFlags, 1);
  });

  void test('a higher version must have a dash or the end after the flags', () => {
    assertRejected(`cc-${TRACE_ID}-${SPAN_ID}-01.what-the-future-will-be-like`);
    assertRejected(`cc-${TRACE_ID}-${SPAN_ID}-011`);
  });

  void test('a higher version shorter than 55 characters is invalid', () => {
    assertRejected(`cc-${TRACE_ID}-${SPAN_ID}-1`);
    assertRejected(`cc-${TRACE_ID}-${SPAN_ID}`);
  });

  void test('version ff is invalid', () => {
    assertRejected(`ff-${TRACE_ID}-${SPAN_ID}-01`);
  });

  void test('version with illegal characters is invalid (non-hex, uppercase)', () => {
    assertRejected(`.0-${TRACE_ID}-${SPAN_ID}-01`);
    assertRejected(`0.-${TRACE_ID}-${SPAN_ID}-01`);
    assertRejected(`CC-${TRACE_ID}-${SPAN_ID}-01`);
    assertRejected(`0g-${TRACE_ID}-${SPAN_ID}-01`);
  });

  void test('version of the wrong length is invalid', () => {
    assertRejected(`000-${TRACE_ID}-${SPAN_ID}-01`);
    assertRejected(`0000-${TRACE_ID}-${SPAN_ID}-01`);
    assertRejected(`0-${TRACE_ID}-${SPAN_ID}-01`);
  });

  void test('an all-zero trace id is invalid', () => {
    assertRejected(`00-${'0'.repeat(32)}-${SPAN_ID}-01`);
  });

  void test('trace id with illegal characters or uppercase hex is invalid', () => {
    assertRejected(`00-.${TRACE_ID.slice(1)}-${SPAN_ID}-01`);
    assertRejected(`00-${TRACE_ID.slice(0, 31)}.-${SPAN_ID}-01`);
    assertRejected(`00-4BF92F3577B34DA6A3CE929D0E0E4736-${SPAN_ID}-01`);
    assertRejected(`00-4bf92f3577b34da6a3ce929d0e0e473G-${SPAN_ID}-01`);
  });

  void test('trace id of the wrong length is invalid', () => {
    assertRejected(`00-${TRACE_ID}3-${SPAN_ID}-01`);
    assertRejected(`00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`);
  });

  void test('an all-zero parent id is invalid', () => {
    assertRejected(`00-${TRACE_ID}-${'0'.repeat(16)}-01`);
  });

  void test('parent id with illegal characters or uppercase hex is invalid', () => {
    assertRejected(`00-${TRACE_ID}-.${SPAN_ID.slice(1)}-01`);
    assertRejected(`00-${TRACE_ID}-${SPAN_ID.slice(0, 15)}.-01`);
    assertRejected(`00-${TRACE_ID}-00F067AA0BA902B7-01`);
  });

  void test('parent id of the wrong length is invalid', () => {
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}7-01`);
    assertRejected(`00-${TRACE_ID}-${SPAN_ID.slice(1)}-01`);
  });

  void test('trace-flags with illegal characters or uppercase hex are invalid', () => {
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}-.0`);
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}-0.`);
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}-0F`);
  });

  void test('trace-flags of the wrong length are invalid', () => {
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}-001`);
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}-1`);
  });

  void test('wrong delimiters are invalid', () => {
    assertRejected(`00_${TRACE_ID}-${SPAN_ID}-01`);
    assertRejected(`00-${TRACE_ID}_${SPAN_ID}-01`);
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}_01`);
    assertRejected(`00 ${TRACE_ID} ${SPAN_ID} 01`);
  });

  void test('the sampled and (Level 2) random bits of trace-flags are kept; the others are reserved: set to zero', () => {
    const flagsOf = (f: string) => extractFrom(w3c, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-${f}` }).spanContext?.traceFlags;
    assert.equal(flagsOf('09'), 1);
    assert.equal(flagsOf('ff'), 3);
    assert.equal(flagsOf('02'), 2);
    assert.equal(flagsOf('03'), 3);
    assert.equal(flagsOf('fc'), 0);
  });

  void test('optional whitespace (space, tab) around the value is allowed', () => {
    for (const v of [` ${VALID_TRACEPARENT}`, `\t${VALID_TRACEPARENT}`, `${VALID_TRACEPARENT} `, `${VALID_TRACEPARENT}\t`, `\t ${VALID_TRACEPARENT} \t`]) {
      assert.equal(traceIdOf(v), TRACE_ID, JSON.stringify(v));
    }
  });

  void test('other whitespace is not optional whitespace', () => {
    assertRejected(`\n${VALID_TRACEPARENT}`);
    assertRejected(`${VALID_TRACEPARENT}\u00a0`);
    assertRejected(`${VALID_TRACEPARENT}\r`);
  });

  void test('a repeated traceparent header is invalid, one in an array is fine', () => {
    assertRejected([VALID_TRACEPARENT, `00-${TRACE_ID.replace('12', '11')}-${SPAN_ID}-01`]);
    assertRejected([VALID_TRACEPARENT, VALID_TRACEPARENT]);
    assertRejected(`${VALID_TRACEPARENT}, ${VALID_TRACEPARENT}`); // how Node joins a repeated header
    assert.equal(traceIdOf([VALID_TRACEPARENT]), TRACE_ID);
  });

  void test('a value longer than 512 characters is ignored unread', () => {
    const future = `cc-${TRACE_ID}-${SPAN_ID}-01-`;
    assert.equal(traceIdOf(future + 'a'.repeat(512 - future.length)), TRACE_ID);
    assertRejected(future + 'a'.repeat(513 - future.length));
    assertRejected(' '.repeat(600) + VALID_TRACEPARENT);
  });

  void test('tracestate without traceparent is discarded', () => {
    const base: Propagated = {};
    assert.equal(extractFrom(w3c, { tracestate: 'foo=1,lt=0.1' }, base), base);
  });

  void test('an invalid traceparent ignores tracestate and returns base unchanged', () => {
    assertRejected(`00-${TRACE_ID}-${SPAN_ID}-0x`);
  });

  void test('extract returns a new object with base fields kept and base not modified', () => {
    const baggage = new Map([['k', { value: 'v' }]]);
    const base: Propagated = { baggage };
    const out = extractFrom(w3c, { traceparent: VALID_TRACEPARENT }, base);
    assert.notEqual(out, base);
    assert.equal(out.baggage, baggage);
    assert.deepEqual(Object.keys(base), ['baggage']);
  });

  void test('a 128-bit id whose upper half is zero is the 64-bit id (16 hex) and is re-padded on inject', () => {
    const header = `00-0000000000000000a3ce929d0e0e4736-${SPAN_ID}-01`;
    const sc = extractFrom(w3c, { traceparent: header }).spanContext;
    assert.equal(sc?.traceId, 'a3ce929d0e0e4736');
    assert.equal(injectInto(w3c, { spanContext: sc }).traceparent, header);
  });

  void test('values that are not strings are absent, not errors', () => {
    for (const v of [42, { a: 1 }, null, [1, 2], [], true]) {
      const base: Propagated = {};
      assert.equal(w3c.extract(base, { traceparent: v }, { get: (c: Record<string, unknown>, k) => c[k] as string, keys: () => [] }), base);
    }
  });

  void test('a getter that throws yields base', () => {
    const base: Propagated = {};
    const out = w3c.extract(base, {}, { get: () => { throw new Error('boom'); }, keys: () => [] });
    assert.equal(out, base);
  });

  void test('parseTraceparent exposes the same rules', () => {
    assert.deepEqual(parseTraceparent(VALID_TRACEPARENT), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    assert.equal(parseTraceparent('garbage'), undefined);
  });
});

void describe('traceparent injection', () => {
  void test('writes version 00 with the span context ids and the sampled flag as 2 hex', () => {
    assert.deepEqual(injectInto(w3c, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }), {
      traceparent: VALID_TRACEPARENT,
    });
    assert.equal(injectInto(w3c, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 } }).traceparent, `00-${TRACE_ID}-${SPAN_ID}-00`);
  });

  void test('flags other than sampled and random are written as zero', () => {
    assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xfd }), VALID_TRACEPARENT);
    assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xff }), `00-${TRACE_ID}-${SPAN_ID}-03`);
    assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x02 }), `00-${TRACE_ID}-${SPAN_ID}-02`);
  });

  void test('a 16-hex (Zipkin 64-bit) trace id is left-padded to 32', () => {
    assert.equal(formatTraceparent({ traceId: 'a3ce929d0e0e4736', spanId: SPAN_ID, traceFlags: 1 }), `00-0000000000000000a3ce929d0e0e4736-${SPAN_ID}-01`);
  });

  void test('invalid ids write nothing at all', () => {
    for (const [traceId, spanId] of [
      ['0'.repeat(32), SPAN_ID],
      [TRACE_ID, '0'.repeat(16)],
      [TRACE_ID.toUpperCase().replace(/1/g, 'A'), SPAN_ID],
      [TRACE_ID.slice(1), SPAN_ID],
      [TRACE_ID, ''],
    ]) {
      assert.deepEqual(injectInto(w3c, { spanContext: { traceId: traceId!, spanId: spanId!, traceFlags: 1, rpcid: '0.1' } }), {});
    }
  });

  void test('no span context writes nothing', () => {
    assert.deepEqual(injectInto(w3c, { rootTraceId: TRACE_ID, baggage: new Map() }), {});
  });

  void test('a setter that throws does not escape inject', () => {
    assert.doesNotThrow(() =>
      w3c.inject({ spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }, {}, { set: () => { throw new Error('sent'); } }),
    );
  });

  void test('fields are traceparent and tracestate', () => {
    assert.deepEqual(w3c.fields(), ['traceparent', 'tracestate']);
  });
});
