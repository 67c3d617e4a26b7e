/**
 * Real payloads from Zipkin, OpenTelemetry and Jaeger through every codec: decode, encode, decode
 * again, and the spans must come back equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../src/span.js';
import { decodeZipkinJson, encodeZipkinJson } from '../src/codec/zipkin-json.js';
import { decodeOtlpJson, encodeOtlpJson } from '../src/codec/otlp-json.js';
import { decodeOtlpProto, encodeOtlpProto } from '../src/codec/otlp-proto.js';
import { decodeNativeJson, encodeNativeJson } from '../src/codec/native-json.js';
import { validateSpan } from '../src/codec/validate.js';
import type { DecodeResult } from '../src/codec/decode-result.js';
import { fixtureFiles, readFixture } from './codec-helpers.js';

const zipkinFiles = fixtureFiles('zipkin');
const otlpFiles = ['otlp/example-trace.json', ...fixtureFiles('jaeger/traces')];

function clean(result: DecodeResult, what: string): Span[] {
  assert.equal(result.rejected, 0, `${what}: ${result.errors.join('; ')}`);
  assert.deepEqual(result.errors, []);
  for (const span of result.spans) assert.equal(validateSpan(span), undefined, `${what}: span ${span.spanId} invalid`);
  return result.spans;
}

/** Zipkin JSON after the normalisation the decoder applies: lowercase ids, one span per array item. */
function normaliseZipkin(body: unknown): unknown[] {
  const list = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
  return list.map((s) => {
    const out = { ...s };
    for (const k of ['traceId', 'id', 'parentId']) if (typeof out[k] === 'string') out[k] = (out[k] as string).toLowerCase();
    return out;
  });
}

/** OTLP groups spans by resource and scope, so order is compared through a stable sort. */
function sorted(spans: Span[]): Span[] {
  const key = (s: Span): string => `${s.traceId}/${s.spanId}/${s.kind}/${s.service}/${s.startUs}`;
  return [...spans].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function throughEveryCodec(input: Span[], what: string): void {
  const spans = sorted(input);
  const viaJson = clean(decodeOtlpJson(JSON.parse(JSON.stringify(encodeOtlpJson(spans))) as unknown), `${what} otlp-json`);
  assert.deepEqual(sorted(viaJson), spans, `${what}: model -> OTLP JSON -> model`);
  const viaProto = clean(decodeOtlpProto(encodeOtlpProto(spans)), `${what} otlp-proto`);
  assert.deepEqual(sorted(viaProto), spans, `${what}: model -> OTLP protobuf -> model`);
  const viaNative = clean(decodeNativeJson(JSON.parse(JSON.stringify(encodeNativeJson(spans))) as unknown), `${what} native`);
  assert.deepEqual(sorted(viaNative), spans, `${what}: model -> native JSON -> model`);
}

for (const file of zipkinFiles) {
  void test(`zipkin fixture ${file}: decode -> encode gives back the original`, () => {
    const body = readFixture(file);
    const spans = clean(decodeZipkinJson(body), file);
    assert.equal(spans.length, normaliseZipkin(body).length);
    assert.deepEqual(JSON.parse(JSON.stringify(encodeZipkinJson(spans))), normaliseZipkin(body));
  });

  void test(`zipkin fixture ${file}: model -> OTLP JSON / protobuf / native -> model is exact`, () => {
    throughEveryCodec(clean(decodeZipkinJson(readFixture(file)), file), file);
  });
}

for (const file of otlpFiles) {
  void test(`OTLP fixture ${file}: decode -> encode -> decode is stable`, () => {
    const body = readFixture(file);
    const spans = clean(decodeOtlpJson(body), file);
    assert.ok(spans.length > 0, 'fixture has spans');
    const again = clean(decodeOtlpJson(JSON.parse(JSON.stringify(encodeOtlpJson(spans))) as unknown), file);
    assert.deepEqual(sorted(again), sorted(spans));
  });

  void test(`OTLP fixture ${file}: JSON -> model -> protobuf / native -> model is exact`, () => {
    throughEveryCodec(clean(decodeOtlpJson(readFixture(file)), file), file);
  });
}
