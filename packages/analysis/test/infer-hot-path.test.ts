import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallNodes, CallStructure, START } from '../src/inference/call-structure.js';
import { assignCalls, sortByScore, type AssignCall, type AssignParent } from '../src/inference/caller-assignment.js';
import { TimeList } from '../src/inference/time-list.js';

interface Item {
  s: number;
  name: string;
}

function names(list: TimeList<Item>): string[] {
  return list.items.slice(list.head).map((x) => x.name);
}

describe('TimeList (the indices kept across blocks)', () => {
  it('keeps start order, equal starts in arrival order, whatever order they come in', () => {
    const owner = new Map<string, TimeList<Item>>();
    const list = TimeList.in(owner, 'k');
    for (const [s, name] of [[5, 'a'], [9, 'b'], [7, 'c'], [5, 'd'], [1, 'e'], [9, 'f']] as const) list.insert({ s, name });
    assert.deepStrictEqual(names(list), ['e', 'a', 'd', 'c', 'b', 'f']);
    assert.equal(owner.get('k'), list);
    assert.equal(list.lowerBound(5), list.head + 1);
    assert.equal(list.upperBound(5), list.head + 3);
    assert.equal(list.lowerBound(10), list.items.length);
  });

  it('drops from the front, removes from the middle, and leaves its owner when emptied', () => {
    const owner = new Map<string, TimeList<Item>>();
    const list = TimeList.in(owner, 'k');
    const items = Array.from({ length: 200 }, (_, i) => ({ s: i, name: String(i) }));
    for (const x of items) list.insert(x);
    list.remove(items[150]!); // not the front: spliced out
    for (let i = 0; i < 120; i++) list.remove(items[i]!); // the front, oldest first (compacts on the way)
    assert.equal(list.size, 79);
    assert.equal(list.first, items[120]);
    assert.ok(!names(list).includes('150'));
    assert.equal(list.lowerBound(149), list.head + 29);
    list.remove({ s: 3, name: 'never there' });
    assert.equal(list.size, 79);
    for (let i = 120; i < 200; i++) if (i !== 150) list.remove(items[i]!);
    assert.equal(list.size, 0);
    assert.equal(owner.has('k'), false, 'an emptied list must leave the index (keys such as connections come and go)');
    assert.notEqual(TimeList.in(owner, 'k'), list);
  });
});

describe('sortByScore (the beam ranking)', () => {
  for (const n of [1, 7, 48, 49, 300]) {
    it(`ranks ${n} expansions best first, equal scores in index order, like a stable sort`, () => {
      let seed = n;
      const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const score = new Float64Array(n + 5).fill(99); // beyond n: must be ignored
      for (let i = 0; i < n; i++) score[i] = Math.floor(rand() * 8) - 4; // many ties
      const order = new Int32Array(n + 5).fill(-7);
      sortByScore(order, score, n);
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
      assert.deepStrictEqual([...order.subarray(0, n)], expected);
      assert.equal(order[n], -7);
    });
  }
});

describe('CallStructure counts', () => {
  const nodes = new CallNodes();
  function list(...endpoints: string[]): number {
    let l = -1;
    for (const endpoint of endpoints) l = nodes.add(endpoint, 0, l);
    return l;
  }

  it('keeps each child’s histogram of calls per request, for children first seen late too', () => {
    const cs = new CallStructure();
    const call = (endpoint: string, at: number): { endpoint: string; s: number; e: number } => ({ endpoint, s: at, e: at + 10 });
    // Six requests: [a], [a], [a], [a, b], [a, b], []: a is called once in five, b once in two (seen from the fourth).
    for (const calls of [[call('a', 10)], [call('a', 10)], [call('a', 10)], [call('a', 10), call('b', 30)], [call('a', 10), call('b', 30)], []]) cs.learn('svc GET /', 0, 100, calls, 1);
    const m = cs.model('svc GET /');
    assert.ok(m !== undefined);
    assert.equal(cs.learnedParents, 6);
    // a: [1, 5]; b: [4, 2] (three requests before it was first seen, one after without it).
    assert.ok(Math.abs(cs.more(m, 'b', 0) - Math.log(2.5 / 7)) < 1e-12);
    assert.ok(Math.abs(cs.more(m, 'a', 1) - Math.log(0.5 / 6)) < 1e-12);
    assert.ok(Math.abs(cs.stop(m, nodes, list('a')) - (Math.log(5.5 / 6) + Math.log(4.5 / 7))) < 1e-12);
    assert.ok(Math.abs(cs.stop(m, nodes, list('a', 'b')) - (Math.log(5.5 / 6) + Math.log(2.5 / 3))) < 1e-12);
    assert.equal(cs.more(cs.model('other'), 'a', 0), 0, 'nothing learned: no opinion');
  });

  it('learns the gap of a call after each previous call (a broad guess would prefer the longer gap)', () => {
    const cs = new CallStructure();
    const fresh = cs.model('svc GET /');
    assert.ok(cs.gap(fresh, 'a', 'b', 10) < cs.gap(fresh, 'a', 'b', 5000), 'the broad prior: gaps of a few ms');
    // b starts 10 µs after a ends, in every request.
    for (let i = 0; i < 6; i++) cs.learn('svc GET /', 0, 100, [{ endpoint: 'a', s: 10, e: 20 }, { endpoint: 'b', s: 30, e: 40 }], 1);
    const m = cs.model('svc GET /');
    assert.ok(cs.gap(m, 'a', 'b', 10) > cs.gap(m, 'a', 'b', 5000));
    assert.ok(cs.gap(m, START, 'a', 10) > cs.gap(m, START, 'a', 5000));
    assert.ok(cs.tail(m, 'b', 60) > cs.tail(m, 'b', 5000));
  });
});

describe('the caller search’s pooled columns', () => {
  it('CallNodes keeps every list intact as its columns grow', () => {
    const nodes = new CallNodes();
    const heads: number[] = [];
    let list = -1;
    for (let i = 0; i < 3000; i++) heads.push((list = nodes.add(`e${i % 7}`, i * 10, i % 3 === 0 ? -1 : list)));
    for (const i of [0, 1, 1023, 1024, 2047, 2999]) {
      const n = heads[i]!;
      assert.equal(nodes.endpoint[n], `e${i % 7}`);
      assert.equal(nodes.endUs[n], i * 10);
      assert.equal(nodes.next[n], i % 3 === 0 ? -1 : heads[i - 1]);
    }
    nodes.clear();
    assert.equal(nodes.add('x', 1, -1), 0, 'a new search starts the pool over');
  });

  it('ranks -Infinity scores after all others, in index order', () => {
    const n = 120;
    const score = new Float64Array(n);
    for (let i = 0; i < n; i++) score[i] = i % 5 === 0 ? -Infinity : i % 4;
    const order = new Int32Array(n);
    sortByScore(order, score, n);
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
    assert.deepStrictEqual([...order], expected);
  });

  it('gives the same answer to the same search before and after larger ones (no state leaks between searches)', () => {
    const cs = new CallStructure();
    const search = (requests: number, callsPer: number): ReturnType<typeof assignCalls> => {
      const parents: AssignParent[] = Array.from({ length: requests }, (_, i) => ({ key: 'svc GET /', startUs: i * 50, endUs: i * 50 + 5000, prior: i % 2 === 0 ? [{ endpoint: 'db', e: i * 50 + 20 }] : [], closes: i % 3 !== 0 }));
      const calls: AssignCall[] = [];
      for (let c = 0; c < requests * callsPer; c++) {
        const startUs = 30 + c * 13;
        const candidates = parents.flatMap((p, i) => (p.startUs <= startUs && p.endUs >= startUs + 100 ? [i] : []));
        calls.push({ endpoint: c % 2 === 0 ? 'db' : 'cache', startUs, endUs: startUs + 100, candidates });
      }
      return assignCalls(parents, calls, cs, 200);
    };
    const small = search(4, 2);
    assert.equal(small.length, 8);
    const big = search(60, 3);
    assert.equal(big.length, 180);
    assert.deepStrictEqual(search(4, 2), small);
  });
});
