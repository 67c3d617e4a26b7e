import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOtlpProto } from '@linktrace/model';
import { buildBatches } from '../src/ingest-batches.js';
import { countOtlpSpans } from '../src/otlp-span-count.js';

// Realistic OTLP protobuf requests (several resources and scopes per body, events, links).
const bodies = buildBatches({
  spans: 6000,
  seed: 11,
  startUs: 1_790_000_000_000_000,
  traceGapUs: 5000,
  minBatch: 500,
  maxBatch: 2000,
  jsonShare: 0,
  gzipShare: 0,
  maxBodyBytes: 4 * 1024 * 1024,
  samples: 10,
}).bodies;

describe('countOtlpSpans (bench:http sink)', () => {
  it('counts the spans of every request as the real decoder finds them', () => {
    assert.ok(bodies.length >= 3);
    for (const { body, spans } of bodies) {
      assert.equal(countOtlpSpans(body), spans);
      assert.equal(countOtlpSpans(body), decodeOtlpProto(body).spans.length);
    }
  });

  it('counts an empty request as 0 spans', () => {
    assert.equal(countOtlpSpans(new Uint8Array(0)), 0);
  });

  it('answers -1 for a truncated body instead of a wrong count', () => {
    const { body } = bodies[0]!;
    assert.equal(countOtlpSpans(body.subarray(0, body.length - 7)), -1);
    assert.equal(countOtlpSpans(body.subarray(0, 3)), -1);
  });

  it('answers -1 for bytes that are not protobuf (a JSON body)', () => {
    assert.equal(countOtlpSpans(new TextEncoder().encode('{"resourceSpans":[]}')), -1);
  });
});
