import assert from 'node:assert/strict';
import { it } from 'node:test';
import { FAULTS, parseFault } from '../src/faults.js';
import { shardOf } from '../src/start-shop-sync.js';

it('parseFault reads header values in any form and ignores unknown ones', () => {
  for (const f of FAULTS) {
    assert.equal(parseFault(f), f);
    assert.equal(parseFault(Buffer.from(f)), f);
    assert.equal(parseFault([` ${f.toUpperCase()} `]), f);
  }
  for (const bad of [undefined, null, 7, '', 'drop', 'drop-write-now', {}, [], [3]]) assert.equal(parseFault(bad), undefined);
});

it('shardOf is stable and spreads ids over the instances', () => {
  const counts = [0, 0];
  for (let i = 0; i < 1000; i++) {
    const s = shardOf(`shop-${i}`, 2);
    assert.equal(shardOf(`shop-${i}`, 2), s);
    counts[s]!++;
  }
  assert.ok(counts[0]! > 400 && counts[1]! > 400, `counts ${counts.join('/')}`);
});
