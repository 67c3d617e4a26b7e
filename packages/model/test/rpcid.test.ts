import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROOT_RPCID,
  compareRpcid,
  isValidRpcid,
  rpcidProblem,
  rpcidChild,
  rpcidDepth,
  rpcidFork,
  rpcidParent,
} from '../src/rpcid.js';

/** A valid rpcid of the given depth: 0.1.1.1… */
const deep = (depth: number): string => '0' + '.1'.repeat(depth);

const INVALID: unknown[] = [
  '',
  '1',
  '00',
  '0.',
  '.0',
  '0.00',
  '0.01',
  '0.1.02',
  '0..1',
  '0.1.',
  '0.-1',
  '0.1a',
  '0 .1',
  ' 0',
  '0.1\n',
  '0,1',
  '0.１', // full-width digit
  deep(65),
  '0.' + '9'.repeat(255), // 257 chars
  '0.9007199254740992', // 2^53: a segment must be a safe integer
  '0.1.99999999999999999999',
  undefined,
  null,
  0,
  ['0'],
];

void test('isValidRpcid: shape, length, depth and segment bounds', () => {
  const longest = '0' + '.9007199254740991'.repeat(15); // 256 characters, depth 15
  assert.equal(longest.length, 256);
  for (const ok of ['0', '0.1', '0.10', '0.1.2.3', '0.9007199254740991', '0.112512741', deep(64), longest]) {
    assert.ok(isValidRpcid(ok), ok);
  }
  for (const bad of INVALID) assert.ok(!isValidRpcid(bad), String(bad));
  assert.equal(ROOT_RPCID, '0');
});

void test('isValidRpcid: 0 segments as recorded in Alibaba call graphs are positions', () => {
  for (const ok of ['0.0', '0.1.1.2.7.1.21.0', '0.0.0', '0.3.0.1']) {
    assert.ok(isValidRpcid(ok), ok);
    assert.equal(rpcidProblem(ok), undefined, ok);
  }
});

void test('rpcidProblem: a reason a person can act on for each kind of bad rpcid', () => {
  assert.equal(rpcidProblem(7), 'not a string');
  assert.match(rpcidProblem('0.01')!, /^not a position id like 0\.1\.2/);
  assert.match(rpcidProblem('0.x')!, /^not a position id like 0\.1\.2/);
  assert.equal(rpcidProblem('0.1.9007199254740992'), 'segment 9007199254740992 is larger than 2^53 - 1');
  assert.equal(rpcidProblem('0.123456789012345678901.1'), 'segment 123456789012345678901 is larger than 2^53 - 1');
  assert.equal(rpcidProblem('0.' + '9'.repeat(255)), 'longer than 256 characters');
  assert.equal(rpcidProblem(deep(65)), 'deeper than 64 levels');
});

void test('rpcidChild: n-th call counts from 1', () => {
  assert.equal(rpcidChild('0', 1), '0.1');
  assert.equal(rpcidChild('0.1', 2), '0.1.2');
  assert.equal(rpcidChild('0.3.10', 12), '0.3.10.12');
  assert.equal(rpcidChild(deep(63), 1), deep(64));
});

void test('rpcidChild: invalid parent, index or bounds give undefined', () => {
  for (const index of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) assert.equal(rpcidChild('0.1', index), undefined, String(index));
  for (const bad of INVALID) assert.equal(rpcidChild(bad as string, 1), undefined, String(bad));
  assert.equal(rpcidChild(deep(64), 1), undefined, 'depth 65');
  const long = '0' + '.9007199254740991'.repeat(14) + '.1'; // 241 characters
  assert.equal(rpcidChild(long, 9_007_199_254_740_991), undefined, 'length 258');
  assert.equal(rpcidChild(long, 10_000_000_000_000)?.length, 256);
});

void test('rpcidFork: each branch takes the next child index; its calls are children of that position', () => {
  const branches = rpcidFork('0.2', 3, 3);
  assert.deepEqual(branches, ['0.2.3', '0.2.4', '0.2.5']);
  assert.equal(rpcidChild(branches[1]!, 1), '0.2.4.1');
  assert.deepEqual(rpcidFork('0', 1, 1), ['0.1']);
  assert.deepEqual(rpcidFork('0', 1, 0), []);
});

void test('rpcidFork: invalid input gives an empty list', () => {
  assert.deepEqual(rpcidFork('0.00', 1, 2), []);
  assert.deepEqual(rpcidFork('0.0', 1, 2), ['0.0.1', '0.0.2'], 'a foreign 0 position can still be a parent');
  assert.deepEqual(rpcidFork('0', 0, 2), []);
  assert.deepEqual(rpcidFork('0', 1, -1), []);
  assert.deepEqual(rpcidFork('0', 1, 1.5), []);
  assert.deepEqual(rpcidFork('0', 1, Number.NaN), []);
  assert.deepEqual(rpcidFork('0', 2 ** 53 - 1, 2), []);
  assert.deepEqual(rpcidFork('0', 1, 1e9), []);
  assert.deepEqual(rpcidFork(deep(64), 1, 2), []);
  assert.deepEqual(rpcidFork(undefined as unknown as string, 1, 2), []);
});

void test('rpcidParent and rpcidDepth', () => {
  assert.equal(rpcidParent('0'), undefined);
  assert.equal(rpcidParent('0.1'), '0');
  assert.equal(rpcidParent('0.1.22'), '0.1');
  assert.equal(rpcidParent('0.0'), '0');
  assert.equal(rpcidParent('0.1.1.2.7.1.21.0'), '0.1.1.2.7.1.21');
  assert.equal(rpcidParent('0.3.0.1'), '0.3.0');
  assert.equal(rpcidParent('0.3.112512741'), '0.3');
  assert.equal(rpcidDepth('0.1.1.2.7.1.21.0'), 7);
  assert.equal(rpcidDepth('0'), 0);
  assert.equal(rpcidDepth('0.1'), 1);
  assert.equal(rpcidDepth('0.12.3.4'), 3);
  assert.equal(rpcidDepth(deep(64)), 64);
  for (const bad of INVALID) {
    assert.equal(rpcidParent(bad as string), undefined, String(bad));
    assert.equal(rpcidDepth(bad as string), undefined, String(bad));
  }
});

void test('compareRpcid: numeric per segment, parent before child', () => {
  assert.ok(compareRpcid('0.2', '0.10') < 0);
  assert.ok(compareRpcid('0.10', '0.2') > 0);
  assert.ok(compareRpcid('0', '0.1') < 0);
  assert.ok(compareRpcid('0.1', '0.1.1') < 0);
  assert.ok(compareRpcid('0.1.9', '0.2') < 0);
  assert.ok(compareRpcid('0.1.1', '0.1') > 0);
  assert.equal(compareRpcid('0.3.4', '0.3.4'), 0);
  assert.ok(compareRpcid('0.9007199254740990', '0.9007199254740991') < 0, 'near 2^53');
  assert.ok(compareRpcid('0.99', '0.112512741') < 0);
  assert.ok(compareRpcid('0.0', '0.1') < 0, 'a 0 segment before 1');
  assert.ok(compareRpcid('0', '0.0') < 0, 'a parent before its 0 child');
  assert.ok(compareRpcid('0.1.21', '0.1.21.0') < 0);
  assert.ok(compareRpcid('0.1.21.0', '0.1.21.1') < 0);
  const sorted = ['0.10', '0.2.1', '0', '0.1.1', '0.2', '0.1', '0.9', '0.1.10', '0.1.2', '0.1.0', '0.0', '0.2.112512741'].sort(compareRpcid);
  assert.deepEqual(sorted, ['0', '0.0', '0.1', '0.1.0', '0.1.1', '0.1.2', '0.1.10', '0.2', '0.2.1', '0.2.112512741', '0.9', '0.10']);
});

void test('compareRpcid: invalid values sort after valid ones, consistently, without throwing', () => {
  const input = ['x', '0.2', '0.01', '0', undefined, '', '0.1'] as string[];
  const sorted = [...input].sort(compareRpcid);
  assert.deepEqual(sorted.slice(0, 3), ['0', '0.1', '0.2']);
  assert.equal(compareRpcid('0.01', '0.01'), 0);
  assert.ok(compareRpcid('0.01', '0.2') > 0);
  assert.ok(compareRpcid('0.2', 'zzz') < 0);
  assert.ok(compareRpcid('a', 'b') < 0);
  // Antisymmetric over every pair.
  for (const a of input) for (const b of input) assert.equal(Math.sign(compareRpcid(a, b)), -Math.sign(compareRpcid(b, a)) || 0);
});

