import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { b3Propagator } from '../src/propagation/b3.js';
import { compositePropagator, defaultPropagator, extractOnly } from '../src/propagation/composite.js';
import { serviceTransactionIdPropagator } from '../src/propagation/service-transaction-id.js';
import { w3cBaggagePropagator } from '../src/propagation/w3c-baggage.js';
import { w3cTraceContextPropagator } from '../src/propagation/w3c-trace-context.js';
import type { Propagated, Propagator } from '../src/types.js';
import { extractFrom, injectInto, SPAN_ID, TRACE_ID, VALID_TRACEPARENT } from './propagation-helpers.js';

const B3_TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const B3_SPAN = 'e457b5a2e4d86bd1';
const B3_HEADER = `${B3_TRACE}-${B3_SPAN}-1`;

const throwing: Propagator = {
  inject() {
    throw new Error('inject');
  },
  extract() {
    throw new Error('extract');
  },
  fields: () => ['x-broken'],
};

void describe('default propagator', () => {
  const p = defaultPropagator();

  void test('W3C trace context wins over B3 when both are present', () => {
    assert.equal(extractFrom(p, { traceparent: VALID_TRACEPARENT, b3: B3_HEADER }).spanContext?.traceId, TRACE_ID);
  });

  void test('B3 is read when there is no valid traceparent', () => {
    assert.equal(extractFrom(p, { b3: B3_HEADER }).spanContext?.traceId, B3_TRACE);
    assert.equal(extractFrom(p, { traceparent: 'bad', b3: B3_HEADER }).spanContext?.traceId, B3_TRACE);
    assert.equal(extractFrom(p, { 'X-B3-TraceId': B3_TRACE, 'X-B3-SpanId': B3_SPAN }).spanContext?.spanId, B3_SPAN);
  });

  void test('X-Service-Transaction-ID gives rootTraceId, kept next to a span context when both are present', () => {
    assert.deepEqual(extractFrom(p, { 'x-service-transaction-id': TRACE_ID }), { rootTraceId: TRACE_ID });
    const both = extractFrom(p, { traceparent: VALID_TRACEPARENT, 'x-service-transaction-id': 'A3CE929D0E0E4736' });
    assert.equal(both.spanContext?.traceId, TRACE_ID);
    assert.equal(both.rootTraceId, 'a3ce929d0e0e4736');
  });

  void test('baggage is read with any trace context', () => {
    const out = extractFrom(p, { b3: B3_HEADER, baggage: 'k=v' });
    assert.equal(out.spanContext?.traceId, B3_TRACE);
    assert.equal(out.baggage?.get('k')?.value, 'v');
  });

  void test('inject writes traceparent, tracestate and baggage only', () => {
    const headers = injectInto(p, {
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, rpcid: '0.1' },
      baggage: new Map([['k', { value: 'v' }]]),
      rootTraceId: TRACE_ID,
    });
    assert.deepEqual(headers, { traceparent: VALID_TRACEPARENT, tracestate: 'lt=0.1', baggage: 'k=v' });
  });

  void test('fields are the headers it writes', () => {
    assert.deepEqual(p.fields(), ['traceparent', 'tracestate', 'baggage']);
  });

  void test('nothing found returns base itself', () => {
    const base: Propagated = {};
    assert.equal(extractFrom(p, { other: 'x' }, base), base);
  });

  void test('inject then extract round-trips context, rpcid, traceState and baggage', () => {
    const value: Propagated = {
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0, rpcid: '0.2.1', traceState: 'rojo=1' },
      baggage: new Map([['user', { value: 'Amélie', metadata: 'p' }]]),
    };
    assert.deepEqual(extractFrom(p, injectInto(p, value)), {
      spanContext: { ...value.spanContext!, isRemote: true },
      baggage: value.baggage,
    });
  });
});

void describe('compositePropagator', () => {
  void test('earlier members take precedence for each field', () => {
    const b3First = compositePropagator(b3Propagator(), w3cTraceContextPropagator());
    assert.equal(extractFrom(b3First, { traceparent: VALID_TRACEPARENT, b3: B3_HEADER }).spanContext?.traceId, B3_TRACE);
  });

  void test('later members fill what earlier ones did not find', () => {
    const p = compositePropagator(w3cTraceContextPropagator(), w3cBaggagePropagator(), serviceTransactionIdPropagator());
    const out = extractFrom(p, { baggage: 'a=1', 'x-service-transaction-id': TRACE_ID });
    assert.equal(out.spanContext, undefined);
    assert.equal(out.baggage?.get('a')?.value, '1');
    assert.equal(out.rootTraceId, TRACE_ID);
  });

  void test('found fields replace base fields; base is not modified', () => {
    const base: Propagated = { rootTraceId: 'old', baggage: new Map([['keep', { value: '1' }]]) };
    const out = extractFrom(compositePropagator(serviceTransactionIdPropagator()), { 'x-service-transaction-id': TRACE_ID }, base);
    assert.equal(out.rootTraceId, TRACE_ID);
    assert.equal(out.baggage, base.baggage);
    assert.equal(base.rootTraceId, 'old');
  });

  void test('inject writes with every member, in order', () => {
    const p = compositePropagator(b3Propagator(), w3cTraceContextPropagator());
    const headers = injectInto(p, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } });
    assert.deepEqual(Object.keys(headers), ['b3', 'traceparent']);
  });

  void test('fields are the union without duplicates', () => {
    const p = compositePropagator(w3cTraceContextPropagator(), b3Propagator({ inject: 'both' }), w3cTraceContextPropagator());
    assert.deepEqual(p.fields(), ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags']);
  });

  void test('a member that throws does not stop the others', () => {
    const p = compositePropagator(throwing, w3cTraceContextPropagator());
    assert.equal(extractFrom(p, { traceparent: VALID_TRACEPARENT }).spanContext?.traceId, TRACE_ID);
    assert.equal(injectInto(p, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }).traceparent, VALID_TRACEPARENT);
  });

  void test('an empty composite does nothing', () => {
    const p = compositePropagator();
    const base: Propagated = {};
    assert.equal(extractFrom(p, { traceparent: VALID_TRACEPARENT }, base), base);
    assert.deepEqual(injectInto(p, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }), {});
    assert.deepEqual(p.fields(), []);
  });
});

void describe('extractOnly', () => {
  void test('reads like the wrapped propagator, writes nothing, has no fields', () => {
    const p = extractOnly(b3Propagator());
    assert.equal(extractFrom(p, { b3: B3_HEADER }).spanContext?.traceId, B3_TRACE);
    assert.deepEqual(injectInto(p, { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }), {});
    assert.deepEqual(p.fields(), []);
  });

  void test('a wrapped propagator that throws yields base', () => {
    const base: Propagated = {};
    assert.equal(extractFrom(extractOnly(throwing), {}, base), base);
  });
});
