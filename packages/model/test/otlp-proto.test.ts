/** The hand-written protobuf codec, cross-checked in both directions against protobufjs and the .proto files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Span } from '../src/span.js';
import { CodecError } from '../src/codec/codec-error.js';
import { decodeOtlpJson, encodeOtlpJson } from '../src/codec/otlp-json.js';
import { decodeOtlpProto, encodeOtlpProto } from '../src/codec/otlp-proto.js';
import { ProtobufWriter } from '../src/codec/protobuf-writer.js';
import { decodeZipkinJson } from '../src/codec/zipkin-json.js';
import { fixtureFiles, otlpRequestType, readFixture } from './codec-helpers.js';

type Json = Record<string, unknown>;
const otlpFixtures = ['otlp/example-trace.json', ...fixtureFiles('jaeger/traces')];
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** Walks a JSON tree, replacing id fields with `f(id)`. */
function mapIds(v: unknown, f: (s: string) => string): unknown {
  if (Array.isArray(v)) return v.map((x) => mapIds(x, f));
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) out[k] = ID_KEYS.has(k) && typeof x === 'string' ? f(x) : mapIds(x, f);
  return out;
}

const hexToBase64 = (h: string): string => Buffer.from(h, 'hex').toString('base64');
const base64ToHex = (b: string): string => Buffer.from(b, 'base64').toString('hex');

/** Drops what proto3 leaves implicit: unset status, empty lists, zero counts, empty names, undefined. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    if (x === undefined || (Array.isArray(x) && x.length === 0)) continue;
    if (k === 'status' && JSON.stringify(x) === '{"code":0}') continue;
    if (k.startsWith('dropped') && x === 0) continue;
    if (k === 'name' && x === '') continue; // proto3: an empty string is the same as no field
    out[k] = normalise(x);
  }
  return out;
}

function viaProtobufjs(bytes: Uint8Array): unknown {
  const type = otlpRequestType();
  const obj = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String, defaults: false });
  return normalise(mapIds(obj, base64ToHex));
}

function protobufjsEncode(json: unknown): Uint8Array {
  const type = otlpRequestType();
  const msg = type.fromObject(mapIds(json, hexToBase64) as Json);
  return type.encode(msg).finish();
}

const rich: Span = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: '00f067aa0ba902b6',
  rpcid: '0.2.1',
  service: 'orders',
  instance: '10.0.0.7:7001',
  name: 'write order ✓ 注文',
  kind: 'producer',
  startUs: 1_714_000_000_000_001,
  durationUs: 987_654,
  status: { code: 'error', message: 'queue full' },
  attributes: {
    'linktrace.stage': 'enqueue',
    count: 3,
    neg: -42,
    big: 2 ** 62,
    ratio: 0.25,
    whole: 4,
    on: false,
    tags: ['a', 'b'],
    nums: [1, -2],
    blob: new Uint8Array([1, 2, 3, 250]),
    long: 'x'.repeat(300),
  },
  doubleKeys: ['whole'],
  events: [{ timeUs: 1_714_000_000_000_500, name: 'retry', attributes: { attempt: 2 } }],
  links: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4737', spanId: '00f067aa0ba902b8', traceState: 'v=1', attributes: { kind: 'follows' } }],
  traceState: 'lt=0.2.1,vendor=x',
  resource: { 'deployment.environment': 'prod' },
  scope: { name: '@linktrace/sdk', version: '0.1.0', attributes: { a: 'b' } },
  remote: { service: 'kafka', ipv6: '2001:db8::1', port: 9092 },
  debug: true,
  dropped: { attributes: 2, events: 1 },
};

function spansOf(file: string): Span[] {
  const r = decodeOtlpJson(readFixture(file));
  assert.equal(r.rejected, 0);
  return r.spans;
}

void test('protobufjs reads our encoding as the same request our JSON encoder writes', () => {
  const batches: Span[][] = [[rich], ...otlpFixtures.map(spansOf), decodeZipkinJson(readFixture('zipkin/messaging-kafka.json')).spans];
  for (const spans of batches) {
    const extra = { 'linktrace.sdk.dropped_spans': 5 };
    const expected = normalise(JSON.parse(JSON.stringify(encodeOtlpJson(spans, extra))));
    assert.deepEqual(viaProtobufjs(encodeOtlpProto(spans, extra)), expected);
  }
});

for (const file of otlpFixtures) {
  void test(`protobufjs encoding of ${file} decodes to the same spans as its JSON`, () => {
    const json = readFixture(file);
    const fromProto = decodeOtlpProto(protobufjsEncode(json));
    assert.deepEqual(fromProto, decodeOtlpJson(json));
    assert.ok(fromProto.spans.length > 0);
  });
}

void test('protobufjs encoding of a rich span decodes back to it exactly', () => {
  const json = JSON.parse(JSON.stringify(encodeOtlpJson([rich]))) as unknown;
  assert.deepEqual(decodeOtlpProto(protobufjsEncode(json)).spans, [rich]);
});

void test('int64 values at the edges agree with protobufjs in both directions', () => {
  const values = [0, 1, -1, 127, 128, -128, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 62, -(2 ** 62)];
  const span: Span = { ...rich, attributes: Object.fromEntries(values.map((v, i) => [`v${i}`, v])), doubleKeys: undefined };
  delete span.doubleKeys;
  const obj = viaProtobufjs(encodeOtlpProto([span])) as { resourceSpans: { scopeSpans: { spans: { attributes: { key: string; value: { intValue: string } }[] }[] }[] }[] };
  const read = obj.resourceSpans[0].scopeSpans[0].spans[0].attributes.filter((kv) => kv.key.startsWith('v'));
  assert.deepEqual(read.map((kv) => kv.value.intValue), values.map((v) => BigInt(v).toString()));
  const json = JSON.parse(JSON.stringify(encodeOtlpJson([span]))) as unknown;
  assert.deepEqual(decodeOtlpProto(protobufjsEncode(json)).spans[0].attributes, span.attributes);
  const extreme = JSON.parse(JSON.stringify(json).replace('"intValue":"0"', '"intValue":"-9223372036854775808"')) as unknown;
  assert.equal(decodeOtlpProto(protobufjsEncode(extreme)).spans[0].attributes.v0, -9223372036854775808);
});

void test('attributes written in one pass (short ASCII) and the general way agree with protobufjs at every boundary', () => {
  const attributes: Record<string, string | number | boolean> = {};
  // Key + value lengths around 121/122, where a KeyValue stops fitting one-byte lengths.
  for (const total of [0, 1, 120, 121, 122, 123, 200]) {
    const keyLength = Math.max(1, Math.min(60, total));
    attributes[`k${total}`.padEnd(keyLength, 'k')] = 'v'.repeat(Math.max(0, total - keyLength));
    attributes[`i${total}`.padEnd(Math.max(2, total - 4), 'i')] = 2 ** 31 - 1;
  }
  Object.assign(attributes, {
    'clé.non-ascii': 'value',
    'key.non-ascii-value': 'Zürich ✓',
    'key.emoji': '😀',
    'int.zero': 0,
    'int.127': 127,
    'int.128': 128,
    'int.2^31': 2 ** 31,
    'int.negative': -5,
    'int.fraction': 1.5,
    'int.big': 2 ** 53 - 1,
    'bool.true': true,
    'double.whole': 3,
    [`long.key.${'x'.repeat(130)}`]: 'x',
  });
  const span: Span = { ...rich, attributes, doubleKeys: ['double.whole'] };
  const expected = normalise(JSON.parse(JSON.stringify(encodeOtlpJson([span]))));
  assert.deepEqual(viaProtobufjs(encodeOtlpProto([span])), expected);
  const back = decodeOtlpProto(encodeOtlpProto([span])).spans[0]!;
  assert.deepEqual(back.attributes, attributes);
  // NaN is no integer: it goes the general way, as a double.
  const nan = decodeOtlpProto(encodeOtlpProto([{ ...span, attributes: { nan: Number.NaN } }])).spans[0]!;
  assert.ok(Number.isNaN(nan.attributes.nan));
});

void test('nanosecond times are floored to the µs exactly, far beyond 2^53 ns', () => {
  const json = readFixture('otlp/example-trace.json') as Json;
  const text = JSON.stringify(json).replace('"1544712660000000000"', '"1544712660123456789"').replace('"1544712661000000000"', '"1544712661123457999"');
  const [s] = decodeOtlpProto(protobufjsEncode(JSON.parse(text))).spans;
  assert.equal(s.startUs, 1544712660123456);
  assert.equal(s.durationUs, 1000001);
});

/** A hand-built request: one ResourceSpans with one ScopeSpans whose spans are written by `spans`. */
function handBuilt(spans: (w: ProtobufWriter) => void, before?: (w: ProtobufWriter) => void): Uint8Array {
  const w = new ProtobufWriter(64);
  before?.(w);
  w.begin(1);
  w.begin(2);
  spans(w);
  w.end();
  w.begin(1); // the resource after the spans: decoders must not depend on field order
  w.begin(1);
  w.stringField(1, 'service.name');
  w.begin(2);
  w.stringField(1, 'late-resource');
  w.end();
  w.end();
  w.end();
  w.end();
  return w.finish();
}

function spanFields(w: ProtobufWriter, opts: { traceId?: string; spanId?: string; kind?: number; start?: number; end?: number; status?: number; parent?: string } = {}): void {
  w.hexField(1, opts.traceId ?? '4bf92f3577b34da6a3ce929d0e0e4736');
  w.hexField(2, opts.spanId ?? '00f067aa0ba902b7');
  if (opts.parent !== undefined) w.hexField(4, opts.parent);
  w.stringField(5, 'op');
  w.uint32Field(6, opts.kind ?? 2);
  w.fixed64Field(7, opts.start ?? 1000, 0);
  if (opts.end !== undefined) w.fixed64Field(8, opts.end, 0);
  if (opts.status !== undefined) {
    w.begin(15);
    w.uint32Field(3, opts.status);
    w.end();
  }
}

void test('unknown fields, wire-type mismatches and field order are tolerated', () => {
  const bytes = handBuilt(
    (w) => {
      w.begin(2);
      w.uint32Field(5, 77); // field 5 (name) with the wrong wire type: skipped as unknown
      spanFields(w, { end: 5000 });
      w.uint32Field(99, 12345);
      w.stringField(100, 'future');
      w.tag(101, 5);
      w.uint32(0); // 4 bytes of fixed32 follow
      w.uint32(0);
      w.uint32(0);
      w.uint32(0);
      w.fixed64Field(102, 1, 2);
      w.end();
    },
    (w) => w.stringField(9, 'unknown top-level field'),
  );
  const r = decodeOtlpProto(bytes);
  assert.deepEqual(r.errors, []);
  assert.equal(r.spans.length, 1);
  const s = r.spans[0];
  assert.equal(s.service, 'late-resource');
  assert.equal(s.name, 'op');
  assert.equal(s.startUs, 1);
  assert.equal(s.durationUs, 4);
  assert.equal(s.kind, 'server');
});

void test('a Zipkin 64-bit trace id (8 bytes) is accepted and kept as 16 hex', () => {
  const r = decodeOtlpProto(handBuilt((w) => {
    w.begin(2);
    spanFields(w, { traceId: '463ac35c9f6413ad' });
    w.end();
  }));
  assert.equal(r.spans[0].traceId, '463ac35c9f6413ad');
  assert.equal(r.spans[0].durationUs, undefined, 'no end time: a start record');
});

void test('bad spans are rejected with their field named; the others are kept', () => {
  const cases: [Parameters<typeof spanFields>[1], RegExp][] = [
    [{ traceId: '0102030405' }, /traceId: 5 bytes/],
    [{ traceId: '00000000000000000000000000000000' }, /traceId: all zero/],
    [{ spanId: '0000000000000000' }, /spanId: all zero/],
    [{ spanId: '4bf92f3577b34da6a3ce929d0e0e4736' }, /spanId: 16 bytes/],
    [{ parent: '010203' }, /parentSpanId/],
    [{ kind: 9 }, /kind: unknown value 9/],
    [{ start: 0 }, /startTimeUnixNano: missing/],
    [{ start: 5000, end: 4000 }, /endTimeUnixNano: before/],
    [{ status: 5 }, /status\.code/],
  ];
  const bytes = handBuilt((w) => {
    for (const [opts] of cases) {
      w.begin(2);
      spanFields(w, opts);
      w.end();
    }
    w.begin(2);
    spanFields(w, { spanId: '00000000000000aa' });
    w.end();
  });
  const r = decodeOtlpProto(bytes);
  assert.equal(r.rejected, cases.length);
  assert.deepEqual(r.spans.map((s) => s.spanId), ['00000000000000aa']);
  cases.forEach(([, re], i) => assert.match(r.errors[i], re, r.errors[i]));
  assert.match(r.errors[0], /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]/);
});

void test('an all-zero or empty parent span id means a root span', () => {
  const r = decodeOtlpProto(handBuilt((w) => {
    w.begin(2);
    spanFields(w, { parent: '0000000000000000' });
    w.end();
    w.begin(2);
    spanFields(w, { spanId: '00000000000000bb', parent: '' });
    w.end();
  }));
  assert.equal(r.rejected, 0);
  assert.deepEqual(r.spans.map((s) => 'parentSpanId' in s), [false, false]);
});

void test('truncated and malformed protobuf throws CodecError', () => {
  const good = encodeOtlpProto([rich]);
  const cases: [string, Uint8Array][] = [
    ['cut in the middle', good.subarray(0, good.length >> 1)],
    ['cut by one byte', good.subarray(0, good.length - 1)],
    ['length beyond the end', Uint8Array.from([0x0a, 0x05, 0x01])],
    ['varint of 11 bytes', Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['unterminated varint', Uint8Array.from([0x08, 0xff])],
    ['start-group wire type', Uint8Array.from([0x0b])],
    ['wire type 7', Uint8Array.from([0x0f])],
    ['fixed64 cut short', Uint8Array.from([0x09, 1, 2, 3])],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => decodeOtlpProto(bytes), CodecError, what);
  }
  assert.throws(() => decodeOtlpProto('not bytes' as unknown as Uint8Array), CodecError);
  assert.deepEqual(decodeOtlpProto(new Uint8Array(0)), { spans: [], rejected: 0, errors: [], rejectedBy: { invalid_span: 0, too_many_attributes: 0, attribute_too_large: 0 } });
});

void test('decoded bytes attributes are plain Uint8Array copies, not views of the request', () => {
  const bytes = encodeOtlpProto([rich]);
  const blob = decodeOtlpProto(bytes).spans[0].attributes.blob as Uint8Array;
  assert.equal(Object.getPrototypeOf(blob), Uint8Array.prototype);
  bytes.fill(0);
  assert.deepEqual(Array.from(blob), [1, 2, 3, 250]);
});

void test('strings stay right when the caller reuses one buffer for many requests', () => {
  const shared = Buffer.alloc(4096);
  const template: Span = { ...rich, attributes: {}, events: [], links: [] };
  delete template.doubleKeys;
  delete template.dropped;
  for (let i = 0; i < 3000; i++) {
    const key = `k${(i * 7919).toString(36).padStart(4, '0')}`;
    const encoded = encodeOtlpProto([{ ...template, attributes: { [key]: key } }]);
    encoded.forEach((b, j) => (shared[j] = b));
    const [s] = decodeOtlpProto(shared.subarray(0, encoded.length)).spans;
    assert.deepEqual(s.attributes, { [key]: key });
  }
});
