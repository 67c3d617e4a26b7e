import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { serviceTransactionIdPropagator, traceIdFromTransactionId } from '../src/propagation/service-transaction-id.js';
import type { Propagated } from '../src/types.js';
import { extractFrom, injectInto, SPAN_ID, TRACE_ID } from './propagation-helpers.js';

const stid = serviceTransactionIdPropagator();
const rootOf = (value: string | string[], header = 'X-Service-Transaction-ID') => extractFrom(stid, { [header]: value }).rootTraceId;
const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex').slice(0, 32);

function assertIgnored(value: string | string[]): void {
  const base: Propagated = {};
  assert.equal(extractFrom(stid, { 'x-service-transaction-id': value }, base), base, JSON.stringify(value).slice(0, 80));
}

void describe('X-Service-Transaction-ID extraction', () => {
  void test('32 hex in any case becomes rootTraceId, lowercased', () => {
    assert.equal(rootOf('4BF92F3577B34DA6A3CE929D0E0E4736'), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(rootOf('4bf92f3577b34da6a3ce929d0e0e4736'), '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  void test('16 hex is a 64-bit trace id and stays 16 hex', () => {
    assert.equal(rootOf('A3CE929D0E0E4736'), 'a3ce929d0e0e4736');
  });

  void test('32 hex with a zero upper half is the 64-bit id', () => {
    assert.equal(rootOf('0000000000000000A3CE929D0E0E4736'), 'a3ce929d0e0e4736');
  });

  void test('any other printable value maps to the first 16 bytes of its SHA-256', () => {
    assert.equal(rootOf('order-42'), sha('order-42'));
    assert.equal(rootOf('with spaces, commas; and "quotes"'), sha('with spaces, commas; and "quotes"'));
    assert.equal(rootOf('0'.repeat(32)), sha('0'.repeat(32)));
    assert.equal(rootOf('abc'), 'ba7816bf8f01cfea414140de5dae2223'); // SHA-256("abc"), FIPS 180-2 test vector
  });

  void test('the mapping is deterministic and case-sensitive for opaque values', () => {
    assert.equal(rootOf('Order-1'), rootOf('Order-1'));
    assert.notEqual(rootOf('Order-1'), rootOf('order-1'));
    assert.notEqual(rootOf('order-1'), rootOf('order-2'));
  });

  void test('optional whitespace around the value is ignored', () => {
    assert.equal(rootOf(' \torder-42 '), sha('order-42'));
  });

  void test('up to 256 characters are accepted, longer values ignored', () => {
    assert.equal(rootOf('x'.repeat(256)), sha('x'.repeat(256)));
    assertIgnored('x'.repeat(257));
    assertIgnored('x'.repeat(100_000));
  });

  void test('empty, control characters and non-ASCII are ignored', () => {
    for (const v of ['', '   ', 'a\u0000b', 'line\nbreak', 'tab\tinside', 'café', '\u007f']) assertIgnored(v);
  });

  void test('when repeated, the first value is used', () => {
    assert.equal(rootOf(['order-1', 'order-2']), sha('order-1'));
  });

  void test('it only sets rootTraceId: base span context and baggage are kept', () => {
    const spanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };
    const out = extractFrom(stid, { 'x-service-transaction-id': 'order-42' }, { spanContext });
    assert.equal(out.spanContext, spanContext);
    assert.equal(out.rootTraceId, sha('order-42'));
  });

  void test('traceIdFromTransactionId is the same mapping', () => {
    assert.equal(traceIdFromTransactionId('abc'), 'ba7816bf8f01cfea414140de5dae2223');
    assert.equal(traceIdFromTransactionId('é'), undefined);
  });
});

void describe('X-Service-Transaction-ID injection', () => {
  void test('extract-only by default: writes nothing, fields empty', () => {
    assert.deepEqual(injectInto(stid, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }), {});
    assert.deepEqual(stid.fields(), []);
  });

  void test('with inject: true, writes the trace id (span context first, else rootTraceId)', () => {
    const p = serviceTransactionIdPropagator({ inject: true });
    assert.deepEqual(injectInto(p, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }, rootTraceId: 'a3ce929d0e0e4736' }), {
      'x-service-transaction-id': TRACE_ID,
    });
    assert.deepEqual(injectInto(p, { rootTraceId: 'a3ce929d0e0e4736' }), { 'x-service-transaction-id': 'a3ce929d0e0e4736' });
    assert.deepEqual(injectInto(p, { rootTraceId: 'not-an-id' }), {});
    assert.deepEqual(p.fields(), ['x-service-transaction-id']);
  });

  void test('a custom header name is used for both directions', () => {
    const p = serviceTransactionIdPropagator({ inject: true, header: 'x-request-id' });
    assert.deepEqual(injectInto(p, { rootTraceId: TRACE_ID }), { 'x-request-id': TRACE_ID });
    assert.equal(extractFrom(p, { 'X-Request-Id': 'req-7' }).rootTraceId, sha('req-7'));
    assert.equal(extractFrom(p, { 'x-service-transaction-id': 'req-7' }).rootTraceId, undefined);
  });

  void test('inject then extract gives the same trace id', () => {
    const p = serviceTransactionIdPropagator({ inject: true });
    assert.equal(extractFrom(p, injectInto(p, { rootTraceId: TRACE_ID })).rootTraceId, TRACE_ID);
  });
});
