import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../src/span.js';
import { CodecError } from '../src/codec/codec-error.js';
import { decodeOtlpJson, encodeOtlpJson } from '../src/codec/otlp-json.js';
import type { OtlpJsonSpan } from '../src/codec/otlp-json-types.js';
import { readFixture } from './codec-helpers.js';

const TRACE = '5b8efff798038103d269b633813fc60c';

function span(over: Partial<Span> = {}): Span {
  return {
    traceId: TRACE,
    spanId: 'eee19b7ec3c1b174',
    service: 'checkout',
    instance: '10.1.2.3:8080',
    name: 'POST /orders',
    kind: 'server',
    startUs: 1_700_000_000_123_456,
    durationUs: 2_500,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...over,
  };
}

/** A request with one span whose fields are overridden by `fields` (null removes a field). */
function request(fields: Record<string, unknown>, resourceAttrs: unknown[] = [{ key: 'service.name', value: { stringValue: 'svc' } }]): unknown {
  const s: Record<string, unknown> = {
    traceId: TRACE,
    spanId: 'eee19b7ec3c1b174',
    name: 'op',
    kind: 2,
    startTimeUnixNano: '1544712660000000000',
    endTimeUnixNano: '1544712661000000000',
  };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) delete s[k];
    else s[k] = v;
  }
  return { resourceSpans: [{ resource: { attributes: resourceAttrs }, scopeSpans: [{ spans: [s] }] }] };
}

function only(body: unknown): Span {
  const r = decodeOtlpJson(body);
  assert.deepEqual(r.errors, []);
  assert.equal(r.spans.length, 1);
  return r.spans[0];
}

function rejected(body: unknown, field: RegExp): void {
  const r = decodeOtlpJson(body);
  assert.equal(r.spans.length, 0, 'span must be rejected');
  assert.equal(r.rejected, 1);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /spans\[0\]/);
  assert.match(r.errors[0], field);
}

void test('encode: ids, decimal ns times, enum integers, status and start records', () => {
  const req = encodeOtlpJson([
    span({ parentSpanId: '00f067aa0ba902b7', status: { code: 'error', message: 'boom' }, traceState: 'a=1' }),
    span({ spanId: '00f067aa0ba902b8', durationUs: undefined, kind: 'consumer' }),
  ]);
  assert.equal(req.resourceSpans.length, 1);
  const [a, b] = req.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(a.traceId, TRACE);
  assert.equal(a.parentSpanId, '00f067aa0ba902b7');
  assert.equal(a.startTimeUnixNano, '1700000000123456000');
  assert.equal(a.endTimeUnixNano, '1700000000125956000');
  assert.equal(a.kind, 2);
  assert.deepEqual(a.status, { code: 2, message: 'boom' });
  assert.equal(a.traceState, 'a=1');
  assert.equal(b.kind, 5);
  assert.equal(b.endTimeUnixNano, undefined, 'a start record has no end time');
  assert.deepEqual(b.status, { code: 0 });
});

void test('encode: attributes as AnyValue — int as string, doubles per doubleKeys, arrays, bytes, NaN', () => {
  const s = span({
    attributes: { s: 'x', i: 42, neg: -7, f: 1.5, whole: 3, b: true, arr: [1, 2], darr: [1, 2], bytes: new Uint8Array([0, 1, 255]), nan: NaN, huge: 2 ** 70 },
    doubleKeys: ['whole', 'darr'],
  });
  const attrs = encodeOtlpJson([s]).resourceSpans[0].scopeSpans[0].spans[0].attributes;
  const byKey = Object.fromEntries(attrs.map((kv) => [kv.key, kv.value]));
  assert.deepEqual(byKey.s, { stringValue: 'x' });
  assert.deepEqual(byKey.i, { intValue: '42' });
  assert.deepEqual(byKey.neg, { intValue: '-7' });
  assert.deepEqual(byKey.f, { doubleValue: 1.5 });
  assert.deepEqual(byKey.whole, { doubleValue: 3 });
  assert.deepEqual(byKey.b, { boolValue: true });
  assert.deepEqual(byKey.arr, { arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } });
  assert.deepEqual(byKey.darr, { arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 2 }] } });
  assert.deepEqual(byKey.bytes, { bytesValue: 'AAH/' });
  assert.deepEqual(byKey.nan, { doubleValue: 'NaN' });
  assert.deepEqual(byKey.huge, { doubleValue: 2 ** 70 }, 'beyond int64 an integer is a double');
});

void test('encode: groups by service + instance + resource, then scope; extraResource reaches every resource', () => {
  const resource = { 'host.name': 'h1' };
  const scope = { name: 'lib', version: '1' };
  const spans = [
    span({ spanId: '0000000000000001', resource, scope }),
    span({ spanId: '0000000000000002', resource: { 'host.name': 'h1' }, scope: { name: 'lib', version: '1' } }),
    span({ spanId: '0000000000000003', resource, scope: { name: 'other' } }),
    span({ spanId: '0000000000000004', instance: '10.1.2.4:8080', resource }),
    span({ spanId: '0000000000000005', service: 'billing' }),
  ];
  const req = encodeOtlpJson(spans, { 'linktrace.sdk.dropped_spans': 7, 'host.name': 'override' });
  assert.equal(req.resourceSpans.length, 3);
  const [first, second, third] = req.resourceSpans;
  assert.deepEqual(first.resource.attributes, [
    { key: 'service.name', value: { stringValue: 'checkout' } },
    { key: 'service.instance.id', value: { stringValue: '10.1.2.3:8080' } },
    { key: 'host.name', value: { stringValue: 'override' } },
    { key: 'linktrace.sdk.dropped_spans', value: { intValue: '7' } },
  ]);
  assert.deepEqual(first.scopeSpans.map((ss) => [ss.scope?.name, ss.spans.map((x: OtlpJsonSpan) => x.spanId)]), [
    ['lib', ['0000000000000001', '0000000000000002']],
    ['other', ['0000000000000003']],
  ]);
  assert.equal(second.scopeSpans[0].spans[0].spanId, '0000000000000004');
  assert.equal(second.scopeSpans[0].scope, undefined);
  assert.deepEqual(third.resource.attributes.slice(0, 1), [{ key: 'service.name', value: { stringValue: 'billing' } }]);
  assert.ok(third.resource.attributes.some((kv) => kv.key === 'linktrace.sdk.dropped_spans'));
});

void test('encode/decode: rpcid, remote endpoint, shared and debug ride as linktrace.* attributes', () => {
  const s = span({ rpcid: '0.1.2', remote: { service: 'db', ipv4: '10.0.0.9', port: 5432 }, shared: true, debug: false, attributes: { 'linktrace.stage': 'write' } });
  const wire = encodeOtlpJson([s]).resourceSpans[0].scopeSpans[0].spans[0].attributes;
  assert.deepEqual(
    wire.map((kv) => kv.key),
    ['linktrace.stage', 'linktrace.rpcid', 'linktrace.remote.service', 'linktrace.remote.ipv4', 'linktrace.remote.port', 'linktrace.shared', 'linktrace.debug'],
  );
  assert.deepEqual(only(encodeOtlpJson([s])), s);
});

void test('decode: the OTLP example — uppercase ids lowercased, integer kind, scope, parent outside the request', () => {
  const s = only(readFixture('otlp/example-trace.json'));
  assert.equal(s.traceId, '5b8efff798038103d269b633813fc60c');
  assert.equal(s.spanId, 'eee19b7ec3c1b174');
  assert.equal(s.parentSpanId, 'eee19b7ec3c1b173');
  assert.equal(s.service, 'my.service');
  assert.equal(s.kind, 'server');
  assert.equal(s.startUs, 1544712660000000);
  assert.equal(s.durationUs, 1000000);
  assert.deepEqual(s.scope, { name: 'my.library', version: '1.0.0', attributes: { 'my.scope.attribute': 'some scope attribute' } });
  assert.deepEqual(s.attributes, { 'my.span.attr': 'some value' });
  assert.equal(s.resource, undefined);
});

void test('decode: int64 as number or string, enum names, unknown fields ignored, null as absent', () => {
  const s = only(
    request({
      startTimeUnixNano: 1544712660000000000,
      endTimeUnixNano: '1544712660000250000',
      kind: 'SPAN_KIND_PRODUCER',
      status: { code: 'STATUS_CODE_OK', futureField: 1 },
      attributes: [
        { key: 'a', value: { intValue: 12 } },
        { key: 'b', value: { intValue: '-9007199254740991' } },
        { key: 'c', value: { doubleValue: '2.5' } },
        { key: 'd', value: { doubleValue: 'Infinity' } },
        { key: 'e', value: null },
        { key: 'f', value: {} },
      ],
      parentSpanId: null,
      flags: 257,
      someNewField: { nested: true },
    }),
  );
  assert.equal(s.startUs, 1544712660000000);
  assert.equal(s.durationUs, 250);
  assert.equal(s.kind, 'producer');
  assert.deepEqual(s.status, { code: 'ok' });
  assert.deepEqual(s.attributes, { a: 12, b: -9007199254740991, c: 2.5, d: Infinity });
  assert.equal(s.parentSpanId, undefined);
});

void test('decode: a start record has endTimeUnixNano "0" or none, and decodes with durationUs absent', () => {
  for (const end of ['0', 0, undefined]) {
    const s = only(request({ endTimeUnixNano: end }));
    assert.equal(s.durationUs, undefined);
    assert.equal('durationUs' in s, false);
  }
});

void test('decode: service.name missing -> unknown_service; service.instance.id -> instance; rest -> resource', () => {
  assert.equal(only(request({}, [])).service, 'unknown_service');
  assert.equal(only({ resourceSpans: [{ scopeSpans: [{ spans: [(request({}) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans[0].scopeSpans[0].spans[0]] }] }] }).service, 'unknown_service');
  const s = only(
    request({}, [
      { key: 'service.name', value: { stringValue: 'api' } },
      { key: 'service.instance.id', value: { stringValue: '10.0.0.1:80' } },
      { key: 'host.name', value: { stringValue: 'h' } },
    ]),
  );
  assert.equal(s.service, 'api');
  assert.equal(s.instance, '10.0.0.1:80');
  assert.deepEqual(s.resource, { 'host.name': 'h' });
});

void test('decode: integral doubles are remembered in doubleKeys and re-encoded as doubles', () => {
  const body = request({ attributes: [{ key: 'ratio', value: { doubleValue: 1 } }, { key: 'n', value: { intValue: '1' } }] });
  const s = only(body);
  assert.deepEqual(s.doubleKeys, ['ratio']);
  const again = encodeOtlpJson([s]).resourceSpans[0].scopeSpans[0].spans[0].attributes;
  assert.deepEqual(again, [
    { key: 'ratio', value: { doubleValue: 1 } },
    { key: 'n', value: { intValue: '1' } },
  ]);
});

void test('decode: kvlist and nested arrays become JSON text; __proto__ stays an ordinary key', () => {
  const s = only(
    request({
      attributes: [
        { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { intValue: '1' } }, { key: 'y', value: { arrayValue: { values: [{ boolValue: true }] } } }] } } },
        { key: 'nested', value: { arrayValue: { values: [{ stringValue: 'a' }, { arrayValue: { values: [{ stringValue: 'b' }] } }] } } },
        { key: '__proto__', value: { stringValue: 'safe' } },
      ],
    }),
  );
  assert.equal(s.attributes.kv, '{"x":1,"y":[true]}');
  assert.deepEqual(s.attributes.nested, ['a', '["b"]']);
  assert.equal(Object.getPrototypeOf(s.attributes), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(s.attributes, '__proto__')?.value, 'safe');
});

void test('decode: links with invalid ids are dropped and counted, the span is kept', () => {
  const s = only(
    request({
      links: [
        { traceId: TRACE.toUpperCase(), spanId: '00F067AA0BA902B7', traceState: 'k=v' },
        { traceId: '00000000000000000000000000000000', spanId: '00f067aa0ba902b7' },
        { traceId: TRACE, spanId: 'xyz' },
      ],
    }),
  );
  assert.deepEqual(s.links, [{ traceId: TRACE, spanId: '00f067aa0ba902b7', traceState: 'k=v' }]);
  assert.deepEqual(s.dropped, { links: 2 });
});

const badSpans: [string, Record<string, unknown>, RegExp][] = [
  ['trace id too short', { traceId: 'abc' }, /traceId/],
  ['trace id 33 hex', { traceId: `${TRACE}a` }, /traceId/],
  ['trace id not hex', { traceId: 'g'.repeat(32) }, /traceId/],
  ['trace id all zero', { traceId: '0'.repeat(32) }, /traceId/],
  ['trace id a number', { traceId: 12 }, /traceId/],
  ['trace id missing', { traceId: undefined }, /traceId/],
  ['span id all zero', { spanId: '0000000000000000' }, /spanId/],
  ['span id 32 hex', { spanId: TRACE }, /spanId/],
  ['span id null', { spanId: null }, /spanId/],
  ['parent id malformed', { parentSpanId: 'zz' }, /parentSpanId/],
  ['name missing', { name: undefined }, /name: missing/],
  ['name not a string', { name: 5 }, /name/],
  ['start missing', { startTimeUnixNano: undefined }, /startTimeUnixNano/],
  ['start zero', { startTimeUnixNano: '0' }, /startTimeUnixNano/],
  ['start not digits', { startTimeUnixNano: '12a' }, /startTimeUnixNano/],
  ['start beyond uint64', { startTimeUnixNano: '999999999999999999999999' }, /startTimeUnixNano/],
  ['start negative number', { startTimeUnixNano: -5 }, /startTimeUnixNano/],
  ['start huge number', { startTimeUnixNano: 1e300 }, /startTimeUnixNano/],
  ['end before start', { endTimeUnixNano: '1544712659000000000' }, /endTimeUnixNano/],
  ['kind out of range', { kind: 9 }, /kind/],
  ['kind unknown name', { kind: 'SERVER' }, /kind/],
  ['kind fractional', { kind: 1.5 }, /kind/],
  ['status code 7', { status: { code: 7 } }, /status\.code/],
  ['status not an object', { status: 'ok' }, /status/],
  ['attributes not an array', { attributes: { a: 1 } }, /attributes/],
  ['attribute without key', { attributes: [{ value: { stringValue: 'x' } }] }, /attributes\[0\]/],
  ['stringValue a number', { attributes: [{ key: 'a', value: { stringValue: 5 } }] }, /attributes\.a/],
  ['intValue fractional', { attributes: [{ key: 'a', value: { intValue: '1.5' } }] }, /attributes\.a/],
  ['intValue 21 digits', { attributes: [{ key: 'a', value: { intValue: '123456789012345678901' } }] }, /attributes\.a/],
  ['boolValue a string', { attributes: [{ key: 'a', value: { boolValue: 'true' } }] }, /attributes\.a/],
  ['doubleValue junk', { attributes: [{ key: 'a', value: { doubleValue: '1e' } }] }, /attributes\.a/],
  ['bytesValue not base64', { attributes: [{ key: 'a', value: { bytesValue: '!!!' } }] }, /attributes\.a/],
  ['value not an object', { attributes: [{ key: 'a', value: 'x' }] }, /attributes\.a/],
  ['too many attributes', { attributes: Array.from({ length: 1025 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } })) }, /attributes/],
  ['string too long', { attributes: [{ key: 'a', value: { stringValue: 'x'.repeat(131073) } }] }, /too long/],
  ['kvlist nested too deep', { attributes: [{ key: 'a', value: deep(40) }] }, /nested too deeply/],
  ['event without time', { events: [{ name: 'e' }] }, /events\[0\]\.timeUnixNano/],
  ['events not an array', { events: {} }, /events/],
  ['dropped count negative', { droppedAttributesCount: -1 }, /droppedAttributesCount/],
];

function deep(n: number): unknown {
  let v: unknown = { stringValue: 'leaf' };
  for (let i = 0; i < n; i++) v = { kvlistValue: { values: [{ key: 'k', value: v }] } };
  return v;
}

for (const [what, fields, field] of badSpans) {
  void test(`decode rejects a span: ${what}`, () => rejected(request(fields), field));
}

void test('decode: a bad span is rejected and counted, the rest of the request is kept', () => {
  const good = (id: string): unknown => ({ traceId: TRACE, spanId: id, name: 'ok', startTimeUnixNano: '1000000' });
  const body = {
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a' } }] }, scopeSpans: [{ spans: [good('0000000000000001'), { traceId: 'bad', spanId: '0000000000000002' }, null, 'x'] }] },
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'b' } }] }, scopeSpans: [{ spans: [good('0000000000000003')] }] },
    ],
  };
  const r = decodeOtlpJson(body);
  assert.deepEqual(r.spans.map((s) => [s.service, s.spanId]), [['a', '0000000000000001'], ['b', '0000000000000003']]);
  assert.equal(r.rejected, 3);
  assert.match(r.errors[0], /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\] \(spanId 0000000000000002\): traceId/);
  assert.match(r.errors[1], /spans\[2\]: not an object/);
});

void test('decode: a malformed resource rejects all of its spans, other resources are kept', () => {
  const ok = request({}) as { resourceSpans: unknown[] };
  const bad = request({}, [{ key: 'service.name', value: { intValue: 'x' } }]) as { resourceSpans: unknown[] };
  const r = decodeOtlpJson({ resourceSpans: [...bad.resourceSpans, ...ok.resourceSpans] });
  assert.equal(r.spans.length, 1);
  assert.equal(r.rejected, 1);
  assert.match(r.errors[0], /resource\.attributes\.service\.name/);
});

void test('decode: errors are capped at 20 messages while every rejection is counted', () => {
  const spans = Array.from({ length: 50 }, () => ({ traceId: 'bad' }));
  const r = decodeOtlpJson({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
  assert.equal(r.rejected, 50);
  assert.equal(r.errors.length, 20);
});

void test('decode: a body without the request shape throws CodecError', () => {
  for (const body of [null, undefined, 'x', 42, [], [{ resourceSpans: [] }], { resourceSpans: {} }, { resourceSpans: [1] }, { resourceSpans: [{ scopeSpans: 'x' }] }, { resourceSpans: [{ scopeSpans: [null] }] }, { resourceSpans: [{ scopeSpans: [{ spans: {} }] }] }]) {
    assert.throws(() => decodeOtlpJson(body), (e: unknown) => e instanceof CodecError && /otlp-json/.test(e.message), JSON.stringify(body));
  }
  assert.deepEqual(decodeOtlpJson({}), { spans: [], rejected: 0, errors: [], rejectedBy: { invalid_span: 0, too_many_attributes: 0, attribute_too_large: 0 } }, 'an empty request is valid');
  assert.deepEqual(decodeOtlpJson({ resourceSpans: [] }), { spans: [], rejected: 0, errors: [], rejectedBy: { invalid_span: 0, too_many_attributes: 0, attribute_too_large: 0 } });
});
