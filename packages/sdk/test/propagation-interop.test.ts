/**
 * Interoperability with another implementation run for real: OpenTelemetry's W3C propagators
 * (dev dependencies) write headers that Linktrace reads, and read the headers Linktrace writes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  baggageEntryMetadataFromString,
  createTraceState,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultPropagator } from '../src/propagation/composite.js';
import type { Propagated } from '../src/types.js';
import { extractFrom, injectInto, SPAN_ID, TRACE_ID } from './propagation-helpers.js';

const ours = defaultPropagator();
const otelTrace = new W3CTraceContextPropagator();
const otelBaggage = new W3CBaggagePropagator();

void describe('interop with OpenTelemetry W3C propagators', () => {
  void test('OpenTelemetry traceparent/tracestate are read by Linktrace', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      traceState: createTraceState('lt=0.3.1,congo=t61rcWkgMzE'),
    });
    const carrier: Record<string, string> = {};
    otelTrace.inject(ctx, carrier, defaultTextMapSetter);
    assert.deepEqual(extractFrom(ours, carrier).spanContext, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
      rpcid: '0.3.1',
      traceState: 'congo=t61rcWkgMzE',
    });
  });

  void test('Linktrace traceparent/tracestate are read by OpenTelemetry', () => {
    const carrier = injectInto(ours, {
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, rpcid: '0.2', traceState: 'rojo=00f067aa0ba902b7' },
    });
    const sc = trace.getSpanContext(otelTrace.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
    assert.equal(sc?.traceId, TRACE_ID);
    assert.equal(sc?.spanId, SPAN_ID);
    assert.equal(sc?.traceFlags, 1);
    assert.equal(sc?.isRemote, true);
    assert.equal(sc?.traceState?.get('lt'), '0.2');
    assert.equal(sc?.traceState?.serialize(), 'lt=0.2,rojo=00f067aa0ba902b7');
  });

  void test('a 64-bit trace id written by Linktrace is the padded 128-bit id for OpenTelemetry, and back', () => {
    const carrier = injectInto(ours, { spanContext: { traceId: 'a3ce929d0e0e4736', spanId: SPAN_ID, traceFlags: 0 } });
    const sc = trace.getSpanContext(otelTrace.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter))!;
    assert.equal(sc.traceId, '0000000000000000a3ce929d0e0e4736');
    const back: Record<string, string> = {};
    otelTrace.inject(trace.setSpanContext(ROOT_CONTEXT, sc), back, defaultTextMapSetter);
    assert.equal(extractFrom(ours, back).spanContext?.traceId, 'a3ce929d0e0e4736');
  });

  void test('OpenTelemetry baggage (percent-encoded, with metadata) is read by Linktrace', () => {
    const bag = propagation.createBaggage({
      user: { value: 'Amélie; "the" 100%' },
      team: { value: 'core', metadata: baggageEntryMetadataFromString('ttl=3') },
    });
    const carrier: Record<string, string> = {};
    otelBaggage.inject(propagation.setBaggage(ROOT_CONTEXT, bag), carrier, defaultTextMapSetter);
    const got = extractFrom(ours, carrier).baggage;
    assert.equal(got?.get('user')?.value, 'Amélie; "the" 100%');
    assert.deepEqual(got?.get('team'), { value: 'core', metadata: 'ttl=3' });
  });

  void test('Linktrace baggage is read by OpenTelemetry', () => {
    const value: Propagated = {
      baggage: new Map([
        ['user', { value: 'Amélie; "the" 100%' }],
        ['team', { value: 'core', metadata: 'ttl=3' }],
      ]),
    };
    const carrier = injectInto(ours, value);
    const bag = propagation.getBaggage(otelBaggage.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
    assert.equal(bag?.getEntry('user')?.value, 'Amélie; "the" 100%');
    assert.equal(bag?.getEntry('team')?.value, 'core');
    assert.equal(bag?.getEntry('team')?.metadata?.toString(), 'ttl=3');
  });
});
