/**
 * JSON bodies are read as Latin-1 when they are pure ASCII (the fast path) and as UTF-8 otherwise:
 * both must give the text the sender meant, BOM and bad bytes included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { bodyText, decodeBody, PayloadError, WIRE_FORMAT } from '../src/ingest/wire-format.js';

const span = (name: string): string =>
  JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000' }] }],
      },
    ],
  });

void test('ASCII and UTF-8 bodies read as the same text Buffer#toString gives', () => {
  for (const text of ['{"a":"plain ascii"}', '{"a":"café ü 日本語 😀"}', '']) {
    const bytes = Buffer.from(text, 'utf8');
    assert.equal(bodyText(bytes), bytes.toString('utf8'));
  }
  // A view into a larger buffer: only its own bytes.
  const outer = Buffer.from('xx{"a":1}yy');
  assert.equal(bodyText(outer.subarray(2, 9)), '{"a":1}');
  // Bytes that are not UTF-8 become replacement characters, as before (not Latin-1 letters).
  const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]);
  assert.equal(bodyText(bad), bad.toString('utf8'));
});

void test('OTLP JSON spans with non-ASCII names decode to those names; a BOM is skipped; bad JSON is refused', () => {
  for (const name of ['GET /orders', 'GET /bestellungen/übersicht', '注文 😀']) {
    const d = decodeBody(WIRE_FORMAT.otlpJson, Buffer.from(span(name), 'utf8'));
    assert.equal(d.spans.length, 1);
    assert.equal(d.spans[0]!.name, name);
  }
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(span('bom'))]);
  assert.equal(decodeBody(WIRE_FORMAT.otlpJson, withBom).spans[0]!.name, 'bom');
  assert.throws(() => decodeBody(WIRE_FORMAT.otlpJson, Buffer.from('{"resourceSpans": [')), (e: unknown) => e instanceof PayloadError && e.kind === 'json');
});
