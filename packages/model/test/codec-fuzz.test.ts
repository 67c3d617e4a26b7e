/**
 * Property tests: any canonical span survives every lossless codec exactly, and no input, however
 * random or damaged, makes a decoder throw anything but CodecError (or return an invalid span).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '../src/span.js';
import { CodecError } from '../src/codec/codec-error.js';
import type { DecodeResult } from '../src/codec/decode-result.js';
import { decodeOtlpJson, encodeOtlpJson } from '../src/codec/otlp-json.js';
import { decodeOtlpProto, encodeOtlpProto } from '../src/codec/otlp-proto.js';
import { decodeNativeJson, encodeNativeJson } from '../src/codec/native-json.js';
import { decodeZipkinJson, encodeZipkinJson } from '../src/codec/zipkin-json.js';
import { validateSpan } from '../src/codec/validate.js';
import { batchArb, spanArb } from './codec-arbitraries.js';
import { fixtureFiles, readFixture } from './codec-helpers.js';

// A fixed seed so that CI replays the same inputs every run; a failure then names what to replay.
// This seed drew a damaged request whose event time lay beyond 2^53 µs, which the protobuf decoder
// accepted (fixed: every timestamp is range-checked where it is read).
fc.configureGlobal({ seed: 20261121 });

const RUNS = 300;

function sorted(spans: Span[]): Span[] {
  const key = (s: Span): string => `${s.traceId}/${s.spanId}/${s.kind}/${s.service}/${s.startUs}/${s.name}`;
  return [...spans].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function accepted(result: DecodeResult): Span[] {
  assert.equal(result.rejected, 0, result.errors.join('; '));
  return result.spans;
}

/** Runs a decoder; only CodecError may escape, and whatever it returns must be valid and consistent. */
function decodeSafely(decode: () => DecodeResult): void {
  let result: DecodeResult;
  try {
    result = decode();
  } catch (e) {
    if (e instanceof CodecError) return;
    throw e;
  }
  assert.ok(result.errors.length <= 20);
  assert.ok(result.rejected >= result.errors.length);
  for (const span of result.spans) assert.equal(validateSpan(span), undefined, JSON.stringify(span));
}

void test('property: model -> OTLP JSON -> model is exact for any canonical batch', () => {
  fc.assert(
    fc.property(batchArb, (spans) => {
      const body = JSON.parse(JSON.stringify(encodeOtlpJson(spans))) as unknown;
      assert.deepEqual(sorted(accepted(decodeOtlpJson(body))), sorted(spans));
    }),
    { numRuns: RUNS },
  );
});

void test('property: model -> OTLP protobuf -> model is exact for any canonical batch', () => {
  fc.assert(
    fc.property(batchArb, (spans) => {
      assert.deepEqual(sorted(accepted(decodeOtlpProto(encodeOtlpProto(spans)))), sorted(spans));
    }),
    { numRuns: RUNS },
  );
});

void test('property: model -> native JSON -> model is exact for any canonical batch', () => {
  fc.assert(
    fc.property(batchArb, fc.boolean(), (spans, sameService) => {
      const input = sameService ? spans.map((s) => ({ ...s, service: spans[0].service, instance: spans[0].instance })) : spans;
      for (const s of input) if (s.instance === undefined) delete s.instance;
      const body = JSON.parse(JSON.stringify(encodeNativeJson(input))) as unknown;
      assert.deepEqual(accepted(decodeNativeJson(body)), input);
    }),
    { numRuns: RUNS },
  );
});

void test('property: every encoded span is accepted by the Zipkin decoder with ids, times and kind intact', () => {
  fc.assert(
    fc.property(spanArb, (span) => {
      const body = JSON.parse(JSON.stringify(encodeZipkinJson([span]))) as unknown;
      const [back] = accepted(decodeZipkinJson(body));
      assert.equal(back.traceId, span.traceId);
      assert.equal(back.spanId, span.spanId);
      assert.equal(back.parentSpanId, span.parentSpanId);
      assert.equal(back.rpcid, span.rpcid);
      assert.equal(back.kind, span.kind);
      assert.equal(back.startUs, span.startUs);
      assert.equal(back.durationUs, span.durationUs);
      assert.equal(back.status.code, span.status.code);
      assert.equal(back.service, span.service);
    }),
    { numRuns: RUNS },
  );
});

void test('fuzz: random bytes never make the protobuf decoder throw anything but CodecError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => decodeSafely(() => decodeOtlpProto(bytes))),
    { numRuns: 2000 },
  );
});

void test('fuzz: damaged protobuf (bytes changed, inserted, cut) never throws anything but CodecError', () => {
  fc.assert(
    fc.property(
      batchArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')), { minLength: 1, maxLength: 4 }),
      (spans, edits) => {
        let bytes = Array.from(encodeOtlpProto(spans));
        for (const [at, value, op] of edits) {
          const i = at % (bytes.length + 1);
          if (op === 'set' && i < bytes.length) bytes[i] = value;
          else if (op === 'insert') bytes.splice(i, 0, value);
          else bytes = bytes.slice(0, i);
        }
        decodeSafely(() => decodeOtlpProto(Uint8Array.from(bytes)));
      },
    ),
    { numRuns: 1000 },
  );
});

void test('fuzz: every prefix of a real request decodes or throws CodecError', () => {
  const spans = accepted(decodeOtlpJson(readFixture('jaeger/traces/link_attributes_trace.json')));
  const bytes = encodeOtlpProto(spans);
  let threw = 0;
  for (let n = 0; n < bytes.length; n++) {
    try {
      decodeOtlpProto(bytes.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof CodecError, String(e));
      threw++;
    }
  }
  assert.ok(threw > bytes.length / 2, 'most cuts land inside a message and must be reported');
});

const decoders: [string, (body: unknown) => DecodeResult][] = [
  ['otlp-json', decodeOtlpJson],
  ['zipkin-json', decodeZipkinJson],
  ['native-json', decodeNativeJson],
];

for (const [name, decode] of decoders) {
  void test(`fuzz: ${name} decoder on arbitrary JSON values throws only CodecError`, () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (body) => decodeSafely(() => decode(body))),
      { numRuns: 1000 },
    );
  });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v`. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...prefix, k], out);
  return out;
}

function replaceAt(root: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  let node = root as Record<string | number, Json>;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]] as Record<string | number, Json>;
  node[path[path.length - 1]] = value;
  return root;
}

const nasty: fc.Arbitrary<Json> = fc.oneof<fc.Arbitrary<Json>[]>(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(null, '', 0, -1, 1e308, -1e308, 2 ** 64, '99999999999999999999999', 'NaN', 'ZZ', [], {}, true, '__proto__'),
);

const samples: [string, () => Json][] = [
  ...fixtureFiles('jaeger/traces').slice(0, 6).map((f): [string, () => Json] => [`otlp-json`, () => readFixture(f) as Json]),
  ...fixtureFiles('zipkin').slice(0, 6).map((f): [string, () => Json] => [`zipkin-json`, () => readFixture(f) as Json]),
];

void test('fuzz: real payloads with one to three values replaced decode or throw CodecError only', () => {
  const nativeBody = (): Json =>
    JSON.parse(JSON.stringify(encodeNativeJson(accepted(decodeZipkinJson(readFixture('zipkin/messaging.json')))))) as Json;
  const all: [string, () => Json][] = [...samples, ['native-json', nativeBody]];
  fc.assert(
    fc.property(fc.nat({ max: all.length - 1 }), fc.array(fc.tuple(fc.nat(), nasty), { minLength: 1, maxLength: 3 }), (which, edits) => {
      const [name, load] = all[which];
      let body = load();
      for (const [at, value] of edits) {
        const ps = paths(body);
        body = replaceAt(body, ps[at % ps.length], value);
      }
      const decode = decoders.find(([n]) => n === name)?.[1] as (b: unknown) => DecodeResult;
      decodeSafely(() => decode(body));
    }),
    { numRuns: 1500 },
  );
});
