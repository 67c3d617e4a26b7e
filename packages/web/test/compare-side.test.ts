import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseCompareSide } from '../src/compare-side.js';

it('a compare side is trace ids, a search, or explained', () => {
  const a = 'a'.repeat(32);
  const b = 'b'.repeat(16);
  assert.deepEqual(parseCompareSide(` ${a}, ${b.toUpperCase()}  ${a}`), { kind: 'ids', ids: [a, b] });
  assert.deepEqual(parseCompareSide('search:service=orders&minDuration=1s'), { kind: 'search', query: 'service=orders&minDuration=1s' });
  assert.deepEqual(parseCompareSide('http://localhost:4318/#/search?service=orders'), { kind: 'search', query: 'service=orders' });
  assert.deepEqual(parseCompareSide('http://localhost:4318/#/search'), { kind: 'search', query: '' });
  assert.deepEqual(parseCompareSide('   '), { kind: 'empty' });
  const bad = parseCompareSide(`${a} nope`);
  assert.ok(bad.kind === 'bad' && bad.message.includes('nope'));
  const many = Array.from({ length: 101 }, (_, i) => (i + 1).toString(16).padStart(32, '0')).join(' ');
  assert.equal(parseCompareSide(many).kind, 'bad');
});
