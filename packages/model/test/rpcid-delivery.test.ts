import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RPCID_MAX_DEPTH, RPCID_MAX_LENGTH, rpcidChild, rpcidDelivery, rpcidDeliveryOf } from '../src/index.js';

test('rpcidDelivery: the n-th delivery of a message sent at P is P.0.n', () => {
  assert.equal(rpcidDelivery('0.1.2', 2), '0.1.2.0.2');
  assert.equal(rpcidDelivery('0', 7), '0.0.7');
  // A redelivery of a message sent while handling a redelivery.
  assert.equal(rpcidDelivery('0.1.2.0.2.1', 3), '0.1.2.0.2.1.0.3');
});

test('rpcidDelivery: never a position that counting gives (no collision with P.1, P.2, … of the first delivery)', () => {
  for (let n = 2; n < 50; n++) {
    const p = rpcidDelivery('0.3', n)!;
    for (let k = 1; k < 50; k++) assert.ok(!p.startsWith(`${rpcidChild('0.3', k)!}.`) && p !== rpcidChild('0.3', k));
  }
});

test('rpcidDelivery: bad input and positions past the bounds give undefined', () => {
  for (const n of [1, 0, -2, 2.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) assert.equal(rpcidDelivery('0.1', n), undefined, String(n));
  for (const p of ['', '1', '0.01', '0..1', 'x', '0.1.', null, 3]) assert.equal(rpcidDelivery(p as string, 2), undefined, String(p));
  const deep = '0' + '.1'.repeat(RPCID_MAX_DEPTH - 1);
  assert.equal(rpcidDelivery(deep, 2), undefined, 'depth');
  assert.equal(rpcidDelivery('0' + '.1'.repeat(RPCID_MAX_DEPTH - 2), 2)?.split('.').length, RPCID_MAX_DEPTH + 1);
  const long = '0.' + '9'.repeat(RPCID_MAX_LENGTH - 4);
  assert.equal(rpcidDelivery(long, 2), undefined, 'length');
});

test('rpcidDeliveryOf reads back the producer and the delivery', () => {
  assert.deepEqual(rpcidDeliveryOf('0.1.2.0.2'), { producer: '0.1.2', delivery: 2 });
  assert.deepEqual(rpcidDeliveryOf(rpcidDelivery('0', 12)!), { producer: '0', delivery: 12 });
  for (const r of ['0.1.2', '0.1.0.1', '0.1.2.0.2.1', '0.0', 'x.0.2', '0.1.0.02', 5]) assert.equal(rpcidDeliveryOf(r as string), undefined, String(r));
});
