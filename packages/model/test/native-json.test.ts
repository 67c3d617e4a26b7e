import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../src/span.js';
import { CodecError } from '../src/codec/codec-error.js';
import { decodeNativeJson, encodeNativeJson } from '../src/codec/native-json.js';
import { NATIVE_FORMAT } from '../src/codec/native-json-types.js';

function span(id: string, over: Partial<Span> = {}): Span {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: id,
    service: 'sync-worker',
    instance: '10.0.0.5:9000',
    name: 'apply shop',
    kind: 'internal',
    startUs: 1_700_000_000_000_000,
    durationUs: 12,
    status: { code: 'unset' },
    attributes: { 'linktrace.stage': 'write' },
    events: [],
    links: [],
    ...over,
  };
}

const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

void test('encode: batch-wide service, instance and resource are written once', () => {
  const resource = { 'host.name': 'h' };
  const batch = encodeNativeJson([span('0000000000000001', { resource }), span('0000000000000002', { resource })], { 'linktrace.sdk.dropped_spans': 2 });
  assert.equal(batch.format, NATIVE_FORMAT);
  assert.deepEqual(batch.resource, { service: 'sync-worker', instance: '10.0.0.5:9000', attributes: { 'host.name': 'h', 'linktrace.sdk.dropped_spans': 2 } });
  for (const s of batch.spans) {
    assert.equal(s.service, undefined);
    assert.equal(s.instance, undefined);
    assert.equal(s.resource, undefined);
    assert.equal(s.status, undefined, 'unset status is omitted');
    assert.equal(s.events, undefined);
  }
  const back = decodeNativeJson(wire(batch));
  assert.deepEqual(back.spans.map((s) => s.resource), [
    { 'host.name': 'h', 'linktrace.sdk.dropped_spans': 2 },
    { 'host.name': 'h', 'linktrace.sdk.dropped_spans': 2 },
  ]);
  assert.deepEqual(back.spans.map((s) => s.service), ['sync-worker', 'sync-worker']);
});

void test('encode: spans of different services keep their own fields; extraResource reaches each', () => {
  const batch = encodeNativeJson([span('0000000000000001', { resource: { a: '1' } }), span('0000000000000002', { service: 'other', instance: undefined })], { x: 1 });
  assert.equal(batch.resource, undefined);
  assert.deepEqual(batch.spans.map((s) => [s.service, s.instance, s.resource]), [
    ['sync-worker', '10.0.0.5:9000', { a: '1', x: 1 }],
    ['other', undefined, { x: 1 }],
  ]);
});

void test('round trip: bytes, non-finite numbers and every optional field', () => {
  const s = span('0000000000000003', {
    parentSpanId: '0000000000000001',
    rpcid: '0.3.1',
    status: { code: 'error', message: 'dup' },
    attributes: { blob: new Uint8Array([0, 9]), inf: Infinity, nan: NaN, list: [1, -Infinity], ok: true },
    events: [{ timeUs: 1_700_000_000_000_001, name: 'e', attributes: { k: 'v' } }],
    links: [{ traceId: '0af7651916cd43dd8448eb211c80319d', spanId: '0000000000000004', traceState: 't=1', attributes: { l: 1 } }],
    traceState: 'lt=0.3.1',
    scope: { name: 's', version: '2', attributes: { q: 'r' } },
    remote: { service: 'mysql', ipv4: '10.0.0.6', port: 3306 },
    shared: false,
    debug: true,
    doubleKeys: ['x'],
    dropped: { events: 1 },
    durationUs: undefined,
  });
  delete s.durationUs;
  const batch = wire(encodeNativeJson([s])) as { spans: Record<string, unknown>[] };
  assert.deepEqual(batch.spans[0].attributes, { blob: { bytes: 'AAk=' }, inf: { double: 'Infinity' }, nan: { double: 'NaN' }, list: [1, { double: '-Infinity' }], ok: true });
  assert.deepEqual(decodeNativeJson(batch).spans, [s]);
});

void test('decode: a span without service, instance or resource takes the batch defaults; its own win', () => {
  const body = {
    format: NATIVE_FORMAT,
    resource: { service: 'batch', instance: '1.2.3.4:5', attributes: { env: 'prod', zone: 'a' } },
    spans: [
      { traceId: '0AF7651916CD43DD8448EB211C80319C', spanId: '00000000000000AA', name: 'n', kind: 'server', startUs: 10 },
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '00000000000000bb', name: 'n', kind: 'server', startUs: 10, service: 'own', instance: 'h:1', resource: { zone: 'b' } },
    ],
  };
  const r = decodeNativeJson(body);
  assert.deepEqual(r.errors, []);
  const [a, b] = r.spans;
  assert.equal(a.traceId, '0af7651916cd43dd8448eb211c80319c', 'ids are lowercased');
  assert.equal(a.spanId, '00000000000000aa');
  assert.deepEqual([a.service, a.instance, a.resource], ['batch', '1.2.3.4:5', { env: 'prod', zone: 'a' }]);
  assert.deepEqual([b.service, b.instance, b.resource], ['own', 'h:1', { env: 'prod', zone: 'b' }]);
  assert.deepEqual(a.status, { code: 'unset' });
  assert.deepEqual([a.attributes, a.events, a.links], [{}, [], []]);
});

const good = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '00000000000000aa', service: 's', name: 'n', kind: 'server', startUs: 10 };
const bad: [string, Record<string, unknown>, RegExp][] = [
  ['trace id short', { traceId: 'abc' }, /traceId/],
  ['span id zero', { spanId: '0000000000000000' }, /spanId/],
  ['parent id bad', { parentSpanId: 'x' }, /parentSpanId/],
  ['rpcid malformed', { rpcid: '1.2' }, /rpcid/],
  ['rpcid with a leading zero', { rpcid: '0.01' }, /rpcid/],
  ['rpcid segment beyond 2^53', { rpcid: '0.1.9007199254740993' }, /rpcid: segment 9007199254740993 is larger than 2\^53 - 1/],
  ['kind unknown', { kind: 'SERVER' }, /kind/],
  ['name missing', { name: undefined }, /name/],
  ['service empty', { service: '' }, /service/],
  ['start negative', { startUs: -1 }, /startUs/],
  ['start a string', { startUs: '10' }, /startUs/],
  ['duration negative', { durationUs: -3 }, /durationUs/],
  ['status code unknown', { status: { code: 'fine' } }, /status\.code/],
  ['status not an object', { status: 'ok' }, /status/],
  ['attribute an object', { attributes: { a: { b: 1 } } }, /attributes\.a/],
  ['attribute null', { attributes: { a: null } }, /attributes\.a/],
  ['attribute array of objects', { attributes: { a: [{}] } }, /attributes\.a/],
  ['bytes not base64', { attributes: { a: { bytes: '%%' } } }, /attributes\.a/],
  ['event without time', { events: [{ name: 'e' }] }, /events\[0\]\.timeUs/],
  ['link with bad id', { links: [{ traceId: 'x', spanId: '00000000000000aa' }] }, /links\[0\]\.traceId/],
  ['remote port out of range', { remote: { port: 99999 } }, /remote\.port/],
  ['shared not boolean', { shared: 'yes' }, /shared/],
  ['dropped negative', { dropped: { events: -1 } }, /dropped\.events/],
  ['too many attributes', { attributes: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, i])) }, /attributes/],
];

for (const [what, fields, field] of bad) {
  void test(`decode rejects a span: ${what}`, () => {
    const s: Record<string, unknown> = { ...good, ...fields };
    for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
    const r = decodeNativeJson({ format: NATIVE_FORMAT, spans: [s, good] });
    assert.equal(r.rejected, 1);
    assert.equal(r.spans.length, 1);
    assert.match(r.errors[0], /^spans\[0\]/);
    assert.match(r.errors[0], field);
  });
}

void test('decode: a bad batch resource rejects every span; a bad body throws CodecError', () => {
  const r = decodeNativeJson({ format: NATIVE_FORMAT, resource: { service: 5 }, spans: [good, good] });
  assert.equal(r.rejected, 2);
  assert.match(r.errors[0], /resource\.service/);
  for (const body of [null, [], 'x', {}, { format: 'linktrace/2', spans: [] }, { format: NATIVE_FORMAT }, { format: NATIVE_FORMAT, spans: {} }]) {
    assert.throws(() => decodeNativeJson(body), CodecError, JSON.stringify(body));
  }
});
