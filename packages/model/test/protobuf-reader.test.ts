/**
 * The reader's string cache: a hit must be the same text as decoding the bytes, whatever happened to
 * the buffer since, whatever the collisions, and non-ASCII text must never be served from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ProtobufReader } from '../src/codec/protobuf-reader.js';

function read(bytes: Uint8Array): string {
  return new ProtobufReader(bytes).string(0, bytes.length);
}

test('a repeated short ASCII string is the same instance; the text is right', () => {
  const a = read(Buffer.from('http.method'));
  const b = read(Buffer.from('http.method'));
  assert.equal(a, 'http.method');
  assert.equal(a, b);
});

test('a cached string stays right after its buffer is overwritten, and new bytes in the same buffer are not served the old text', () => {
  const buf = Buffer.from('user-000123');
  assert.equal(read(buf), 'user-000123');
  buf.write('user-000999');
  assert.equal(read(buf), 'user-000999');
  buf.write('user-000123');
  assert.equal(read(buf), 'user-000123');
});

test('many distinct strings of one length (every cache slot taken, collisions) each decode to their own text', () => {
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 20_000; i++) {
      const text = `k${String(i).padStart(6, '0')}`;
      assert.equal(read(Buffer.from(text)), text);
    }
  }
});

test('non-ASCII text decodes as UTF-8 every time (never from the cache)', () => {
  for (const text of ['café', 'naïve-ü', '日本語', 'emoji 😀', 'é'.repeat(40)]) {
    for (let i = 0; i < 3; i++) assert.equal(read(Buffer.from(text, 'utf8')), text);
  }
  // Latin-1 bytes that are not UTF-8 come out as replacement characters, as Buffer#toString does.
  const bad = Buffer.from([0x61, 0xe9, 0x62]);
  assert.equal(read(bad), bad.toString('utf8'));
});

test('a string of the same bytes as a cached one but of another length is not confused with it', () => {
  assert.equal(read(Buffer.from('abc')), 'abc');
  assert.equal(read(Buffer.from('abcd')), 'abcd');
  assert.equal(read(Buffer.from('ab')), 'ab');
});

test('long strings (beyond the cache) and a view into a larger buffer decode from their own range', () => {
  const long = 'x'.repeat(100) + 'é';
  const outer = Buffer.concat([Buffer.from('PREFIX'), Buffer.from(long), Buffer.from('SUFFIX')]);
  const view = new Uint8Array(outer.buffer, outer.byteOffset + 6, Buffer.byteLength(long));
  assert.equal(read(view), long);
  const r = new ProtobufReader(outer);
  assert.equal(r.string(0, 6), 'PREFIX');
  assert.equal(r.hex(0, 3), '505245');
});
