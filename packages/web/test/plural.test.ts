import assert from 'node:assert/strict';
import { it } from 'node:test';
import { plural } from '../src/plural.js';

it('words a count with its noun, singular for exactly one', () => {
  assert.equal(plural(1, 'span'), '1 span');
  assert.equal(plural(2, 'span'), '2 spans');
  assert.equal(plural(0, 'finding'), '0 findings');
  assert.equal(plural(1, 'process', 'processes'), '1 process');
  assert.equal(plural(3, 'process', 'processes'), '3 processes');
  assert.equal(plural(12345, 'position'), '12,345 positions');
});
