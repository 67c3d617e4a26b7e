import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentByLine } from '../src/cli/recent-by-line.js';

describe('RecentByLine', () => {
  it('keeps the most recent lines up to its limit, dropping the oldest first, like a Map in insertion order', () => {
    const recent = new RecentByLine<string>(3);
    const model = new Map<number, string>();
    // Lines arrive out of order and some are set again (a known line keeps its place).
    const lines = [5, 2, 9, 2, 7, 1, 1, 8, 3, 40, 11, 12, 40, 13];
    for (const [i, line] of lines.entries()) {
      recent.set(line, `s${i}`);
      model.set(line, `s${i}`);
      if (model.size > 3) model.delete(model.keys().next().value!);
      assert.equal(recent.size, model.size);
      for (const l of lines) assert.equal(recent.get(l), model.get(l), `after ${i}: line ${l}`);
    }
  });

  it('wraps its ring many times over', () => {
    const recent = new RecentByLine<number>(1000);
    for (let line = 0; line < 25_000; line++) recent.set(line, line * 2);
    assert.equal(recent.size, 1000);
    assert.equal(recent.get(23_999), undefined);
    assert.equal(recent.get(24_000), 48_000);
    assert.equal(recent.get(24_999), 49_998);
  });
});
