import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStartRecord, startRecordOf, type Span } from '../src/span.js';
import { CodecError } from '../src/codec/codec-error.js';
import { decodeZipkinJson, encodeZipkinJson } from '../src/codec/zipkin-json.js';
import { readFixture } from './codec-helpers.js';

const base = {
  traceId: '463ac35c9f6413ad48485a3953bb6124',
  id: 'a2fb4a1d1a96d312',
  name: 'get /api',
  timestamp: 1_600_000_000_000_000,
  duration: 1500,
  localEndpoint: { serviceName: 'frontend', ipv4: '10.0.0.1', port: 8080 },
};

function one(fields: Record<string, unknown>): Span {
  const r = decodeZipkinJson([{ ...base, ...fields }]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.spans.length, 1);
  return r.spans[0];
}

function model(over: Partial<Span>): Span {
  return { traceId: base.traceId, spanId: base.id, service: 'frontend', name: 'x', kind: 'internal', startUs: 5, status: { code: 'unset' }, attributes: {}, events: [], links: [], ...over };
}

void test('decode: endpoints, kind, times and annotations map onto the model', () => {
  const s = one({
    kind: 'CLIENT',
    parentId: 'B7AD6B7169203331',
    remoteEndpoint: { serviceName: 'backend', ipv6: '2001:db8::c001', port: 9000 },
    annotations: [{ timestamp: 1_600_000_000_000_100, value: 'ws' }],
    tags: { 'http.path': '/api', 'http.status_code': '200' },
  });
  assert.deepEqual(s, {
    traceId: base.traceId,
    spanId: base.id,
    parentSpanId: 'b7ad6b7169203331',
    service: 'frontend',
    instance: '10.0.0.1:8080',
    name: 'get /api',
    kind: 'client',
    startUs: base.timestamp,
    durationUs: 1500,
    status: { code: 'unset' },
    attributes: { 'http.path': '/api', 'http.status_code': '200' },
    events: [{ timeUs: 1_600_000_000_000_100, name: 'ws' }],
    links: [],
    remote: { service: 'backend', ipv6: '2001:db8::c001', port: 9000 },
  });
});

void test('decode: instance from ipv4 / ipv6 / port alone; no endpoint means unknown_service', () => {
  assert.equal(one({ localEndpoint: { serviceName: 'a', ipv6: '2001:db8::1', port: 80 } }).instance, '[2001:db8::1]:80');
  assert.equal(one({ localEndpoint: { serviceName: 'a', ipv6: '2001:db8::1' } }).instance, '2001:db8::1');
  assert.equal(one({ localEndpoint: { serviceName: 'a', port: 31049 } }).instance, ':31049');
  assert.equal(one({ localEndpoint: { serviceName: 'a' } }).instance, undefined);
  const bare = one({ localEndpoint: undefined });
  assert.equal(bare.service, 'unknown_service');
  assert.equal(bare.instance, undefined);
});

void test('decode: no kind is internal, no duration is a finished span of unknown length, no name is the empty name', () => {
  const s = one({ duration: undefined, name: undefined });
  assert.equal(s.kind, 'internal');
  assert.equal(s.durationUs, undefined);
  assert.equal('durationUs' in s, false);
  assert.equal(s.durationUnknown, true);
  assert.equal(s.name, '');
});

void test('decode: error tag -> error status with its message; otel.status_code OK -> ok', () => {
  assert.deepEqual(one({ tags: { error: 'timeout after 3s', x: '1' } }).status, { code: 'error', message: 'timeout after 3s' });
  const s = one({ tags: { error: '' } });
  assert.deepEqual(s.status, { code: 'error' });
  assert.deepEqual(s.attributes, {});
  assert.deepEqual(one({ tags: { 'otel.status_code': 'OK' } }).status, { code: 'ok' });
  const both = one({ tags: { 'otel.status_code': 'OK', error: 'e' } });
  assert.deepEqual(both.status, { code: 'error', message: 'e' });
  assert.deepEqual(both.attributes, { 'otel.status_code': 'OK' });
});

void test('decode: linktrace.rpcid tag -> rpcid; a malformed one stays a tag', () => {
  const s = one({ tags: { 'linktrace.rpcid': '0.1.3', 'linktrace.stage': 'receive' } });
  assert.equal(s.rpcid, '0.1.3');
  assert.deepEqual(s.attributes, { 'linktrace.stage': 'receive' });
  const bad = one({ tags: { 'linktrace.rpcid': '0.01' } });
  assert.equal(bad.rpcid, undefined);
  assert.deepEqual(bad.attributes, { 'linktrace.rpcid': '0.01' });
});

void test('decode: ids are lowercased and left-padded as Zipkin does; 64-bit trace ids stay 16 hex', () => {
  const s = one({ traceId: '48485A3953BB6124', id: '1', parentId: 'abc' });
  assert.equal(s.traceId, '48485a3953bb6124');
  assert.equal(s.spanId, '0000000000000001');
  assert.equal(s.parentSpanId, '0000000000000abc');
  assert.equal(one({ traceId: '1234567890abcdef1' }).traceId, '000000000000000' + '1234567890abcdef1');
  assert.equal(one({ parentId: '0000000000000000' }).parentSpanId, undefined);
});

void test('decode: numeric and boolean tags are kept as their text; debug and shared flags', () => {
  const s = one({ tags: { n: 5, b: true }, debug: true, shared: true });
  assert.deepEqual(s.attributes, { n: '5', b: 'true' });
  assert.equal(s.debug, true);
  assert.equal(s.shared, true);
  const plain = one({ debug: false, shared: false });
  assert.equal('debug' in plain || 'shared' in plain, false);
});

void test('decode: shared client and server halves (same span id) stay two spans', () => {
  const r = decodeZipkinJson(readFixture('zipkin/skew.json'));
  const halves = r.spans.filter((s) => s.spanId === '74280ae0c10d8062');
  assert.deepEqual(halves.map((s) => [s.kind, s.service, s.shared ?? false]), [
    ['server', 'serviceb', true],
    ['client', 'servicea', false],
  ]);
});

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['trace id 33 hex', { traceId: 'a'.repeat(33) }, /traceId/],
  ['trace id not hex', { traceId: 'xyz' }, /traceId/],
  ['trace id all zero', { traceId: '0000000000000000' }, /traceId/],
  ['trace id missing', { traceId: undefined }, /traceId/],
  ['span id 17 hex', { id: 'a'.repeat(17) }, /id/],
  ['span id a number', { id: 12 }, /id/],
  ['parent id not hex', { parentId: 'nope' }, /parentId/],
  ['kind unknown', { kind: 'LOCAL' }, /kind/],
  ['timestamp negative', { timestamp: -1 }, /timestamp/],
  ['timestamp a string', { timestamp: '1600000000000000' }, /timestamp/],
  ['timestamp huge', { timestamp: 1e300 }, /timestamp/],
  ['duration negative', { duration: -5 }, /duration/],
  ['duration NaN-like', { duration: 'NaN' }, /duration/],
  ['name a number', { name: 7 }, /name/],
  ['localEndpoint a string', { localEndpoint: 'x' }, /localEndpoint/],
  ['port out of range', { localEndpoint: { serviceName: 'a', port: 70000 } }, /localEndpoint\.port/],
  ['ipv4 a number', { remoteEndpoint: { ipv4: 10 } }, /remoteEndpoint\.ipv4/],
  ['annotations not an array', { annotations: {} }, /annotations/],
  ['annotation without value', { annotations: [{ timestamp: 1 }] }, /annotations\[0\]\.value/],
  ['annotation timestamp a string', { annotations: [{ timestamp: 'x', value: 'v' }] }, /annotations\[0\]\.timestamp/],
  ['tags an array', { tags: ['a'] }, /tags/],
  ['tag value an object', { tags: { a: { b: 1 } } }, /tags\.a/],
  ['tag value null', { tags: { a: null } }, /tags\.a/],
];

for (const [what, fields, field] of bad) {
  void test(`decode rejects a span: ${what}`, () => {
    const r = decodeZipkinJson([{ ...base, ...fields }, { ...base, id: 'bbbbbbbbbbbbbbbb' }]);
    assert.equal(r.rejected, 1);
    assert.deepEqual(r.spans.map((s) => s.spanId), ['bbbbbbbbbbbbbbbb'], 'the good span is kept');
    assert.match(r.errors[0], /^span 0/);
    assert.match(r.errors[0], field);
  });
}

void test('decode: non-object items are rejected; a non-array, non-object body throws CodecError', () => {
  const r = decodeZipkinJson([null, 1, 'x', base]);
  assert.equal(r.rejected, 3);
  assert.equal(r.spans.length, 1);
  for (const body of [null, 'x', 5, true, undefined]) assert.throws(() => decodeZipkinJson(body), CodecError);
  assert.equal(decodeZipkinJson(base).spans.length, 1, 'a single span object is accepted');
});

void test('encode: model fields onto Zipkin — tags as strings, error status, rpcid, endpoints', () => {
  const [z] = encodeZipkinJson([
    model({
      parentSpanId: '0000000000000002',
      rpcid: '0.4',
      instance: '[2001:db8::1]:443',
      kind: 'server',
      durationUs: 10,
      status: { code: 'error', message: 'bad' },
      attributes: { n: 1.5, b: false, arr: ['x', 'y'], bytes: new Uint8Array([255]), error: 'shadowed' },
      events: [{ timeUs: 6, name: 'ev', attributes: { dropped: 'on zipkin' } }],
      remote: { service: 'db', port: 5432 },
      debug: true,
      shared: true,
      links: [{ traceId: base.traceId, spanId: '0000000000000009' }],
      resource: { ignored: 'yes' },
    }),
  ]);
  assert.deepEqual(z, {
    traceId: base.traceId,
    id: base.id,
    parentId: '0000000000000002',
    kind: 'SERVER',
    name: 'x',
    timestamp: 5,
    duration: 10,
    localEndpoint: { serviceName: 'frontend', ipv6: '2001:db8::1', port: 443 },
    remoteEndpoint: { serviceName: 'db', port: 5432 },
    annotations: [{ timestamp: 6, value: 'ev' }],
    tags: { n: '1.5', b: 'false', arr: '["x","y"]', bytes: '/w==', 'linktrace.rpcid': '0.4', error: 'bad' },
    debug: true,
    shared: true,
  });
});

void test('encode: internal kind, empty name, unknown service, start record and ok status', () => {
  const [z] = encodeZipkinJson([model({ name: '', service: 'unknown_service', status: { code: 'ok' } })]);
  assert.deepEqual(z, { traceId: base.traceId, id: base.id, timestamp: 5, tags: { 'linktrace.start_record': 'true', 'otel.status_code': 'OK' } });
});

void test('decode: a span without timestamp is kept, its start unknown; encode leaves the timestamp out again', () => {
  for (const timestamp of [undefined, 0]) {
    const s = one({ timestamp, kind: 'SERVER', shared: true });
    assert.equal(s.startUnknown, true);
    assert.equal(s.startUs, 0);
    assert.equal(s.durationUs, 1500);
    const [z] = encodeZipkinJson([s]);
    assert.equal('timestamp' in z, false);
    assert.deepEqual(decodeZipkinJson([z]).spans[0], s);
  }
  // Only traceId and id are required in Zipkin v2.
  const bare = decodeZipkinJson([{ traceId: base.traceId, id: base.id }]);
  assert.equal(bare.rejected, 0);
  assert.equal(bare.spans[0]?.startUnknown, true);
  assert.equal(bare.spans[0]?.durationUnknown, true);
});

void test('decode: a span without duration is finished, of unknown length; only the start-record tag makes a start record', () => {
  const finished = one({ duration: undefined });
  assert.equal(finished.durationUnknown, true);
  assert.equal(finished.durationUs, undefined);
  assert.equal(isStartRecord(finished), false);
  assert.equal('duration' in encodeZipkinJson([finished])[0]!, false);
  assert.equal(encodeZipkinJson([finished])[0]!.tags, undefined, 'a finished span gets no start-record tag');

  const started = one({ duration: undefined, tags: { 'linktrace.start_record': 'true', a: 'b' } });
  assert.equal(isStartRecord(started), true);
  assert.equal(started.durationUnknown, undefined);
  assert.deepEqual(started.attributes, { a: 'b' }, 'the marker is not kept as a tag');

  // What our SDK's Zipkin exporter sends for a start record comes back as a start record.
  const full = model({ durationUs: 7, attributes: { a: 'b' } });
  const back = decodeZipkinJson(encodeZipkinJson([startRecordOf(full)])).spans[0]!;
  assert.equal(isStartRecord(back), true);
  assert.deepEqual(back, startRecordOf(full));
});

void test('decode: a span over a limit is rejected by reason, beside good spans', () => {
  const tags: Record<string, string> = {};
  for (let i = 0; i <= 1024; i++) tags[`k${i}`] = 'v';
  const r = decodeZipkinJson([
    { ...base, id: '1', tags },
    { ...base, id: '2', tags: { long: 'x'.repeat(131073) } },
    { ...base, id: '3' },
    { ...base, id: '4', kind: 'nope' },
  ]);
  assert.deepEqual(r.spans.map((s) => s.spanId), ['0000000000000003']);
  assert.equal(r.rejected, 3);
  assert.deepEqual(r.rejectedBy, { invalid_span: 1, too_many_attributes: 1, attribute_too_large: 1 });
  assert.match(r.errors[0]!, /tags: more than 1024/);
  assert.match(r.errors[1]!, /tags\.long: too long/);
});

void test('encode: an instance with a host name travels as the linktrace.instance tag and comes back', () => {
  const span = model({ instance: 'api-7f9c.internal:8080' });
  const [z] = encodeZipkinJson([span]);
  assert.deepEqual(z.localEndpoint, { serviceName: 'frontend' });
  assert.equal(z.tags?.['linktrace.instance'], 'api-7f9c.internal:8080');
  assert.deepEqual(decodeZipkinJson([z]).spans[0], span);
});

void test('encode -> decode keeps every field Zipkin can carry', () => {
  const span = model({
    parentSpanId: '0000000000000003',
    rpcid: '0.1',
    instance: '10.0.0.2:81',
    kind: 'consumer',
    durationUs: 0,
    status: { code: 'error', message: 'm' },
    attributes: { a: 'b' },
    events: [{ timeUs: 7, name: 'e' }],
    remote: { service: 'mq', ipv4: '10.0.0.3' },
    debug: true,
  });
  assert.deepEqual(decodeZipkinJson(JSON.parse(JSON.stringify(encodeZipkinJson([span])))).spans, [span]);
});
