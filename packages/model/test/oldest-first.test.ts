import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OldestFirst } from '../src/oldest-first.js';

type Op = { op: 'set'; key: number } | { op: 'delete'; key: number } | { op: 'take' } | { op: 'trim'; limit: number } | { op: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ op: fc.constant('take' as const) }),
  fc.record({ op: fc.constant('trim' as const), limit: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('clear' as const) }),
);

describe('OldestFirst', () => {
  it('takes exactly what map.keys().next() would, whatever else happens to the map', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const map = new Map<number, number>();
        const reference = new Map<number, number>();
        const oldest = new OldestFirst(map);
        let n = 0;
        for (const o of ops) {
          if (o.op === 'set') {
            // An LRU's refresh: deleted and set again, so it moves to the end of the order.
            if (n % 2 === 0) {
              map.delete(o.key);
              reference.delete(o.key);
            }
            map.set(o.key, n);
            reference.set(o.key, n);
          } else if (o.op === 'delete') {
            map.delete(o.key);
            reference.delete(o.key);
          } else if (o.op === 'take') {
            const first = reference.entries().next();
            if (first.done === true) assert.equal(oldest.take(), undefined);
            else {
              reference.delete(first.value[0]);
              assert.deepEqual(oldest.take(), first.value);
            }
          } else if (o.op === 'trim') {
            oldest.trimTo(o.limit);
            while (reference.size > o.limit) reference.delete(reference.keys().next().value!);
          } else {
            map.clear();
            reference.clear();
          }
          n++;
          assert.deepEqual([...map], [...reference]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a bound over a long churn (each drop the oldest)', () => {
    const map = new Map<number, number>();
    const oldest = new OldestFirst(map);
    for (let i = 0; i < 50_000; i++) {
      map.set(i, i);
      oldest.trimTo(1_000);
    }
    assert.equal(map.size, 1_000);
    assert.deepEqual([...map.keys()].slice(0, 2), [49_000, 49_001]);
  });
});
