import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkInferrer } from '../src/inference/link-inferrer.js';
import { HeldColumns } from '../src/inference/held-columns.js';
import { generateLogs, scoreLinks } from '../src/testing/index.js';

describe('HeldColumns (the held records’ numbers, one row each)', () => {
  it('hands out rows with their times set and confidences zero, and reuses released rows', () => {
    const cols = new HeldColumns();
    const a = cols.alloc(1_767_225_600_000_001, 1_767_225_600_000_009);
    const b = cols.alloc(5, 7);
    cols.c2[a] = 0.75;
    assert.equal(cols.s[a], 1_767_225_600_000_001);
    assert.equal(cols.e[a], 1_767_225_600_000_009);
    assert.equal(cols.live, 2);
    cols.release(a);
    // Poisoned until reused: a read too early shows as NaN, never as another record's numbers.
    assert.ok(Number.isNaN(cols.s[a]!) && Number.isNaN(cols.c2[a]!));
    const c = cols.alloc(11, 12);
    assert.equal(c, a);
    assert.equal(cols.c2[c], 0);
    assert.equal(cols.s[b], 5);
    assert.equal(cols.live, 2);
    assert.throws(() => cols.release(99), /never allocated/);
  });

  it('grows keeping every row, and stays at the peak rows in use when they are recycled', () => {
    const cols = new HeldColumns();
    const rows: number[] = [];
    for (let i = 0; i < 3000; i++) rows.push(cols.alloc(i, i + 1));
    for (let i = 0; i < 3000; i++) assert.equal(cols.e[rows[i]!], i + 1);
    const capacity = cols.capacity;
    for (let round = 0; round < 10; round++) {
      for (const r of rows.splice(0, 3000)) cols.release(r);
      for (let i = 0; i < 3000; i++) rows.push(cols.alloc(i, i));
    }
    assert.equal(cols.capacity, capacity);
    assert.equal(cols.live, 3000);
  });
});

describe('LinkInferrer rows (memory follows the window)', () => {
  it('recycles rows over many windows without a confidence read from a released row, and returns them all', () => {
    // A short window: every row is released and reused many times over the log.
    const g = generateLogs({ seed: 21, concurrency: 0.5, skewUs: 1000, peers: true, traces: 1500 });
    const parent: (number | null)[] = [];
    const conf: number[] = [];
    const callConf: number[] = [];
    const inferrer = new LinkInferrer(
      { link: (l) => ((parent[l.record] = l.parent), (conf[l.record] = l.confidence)), call: (c) => void callConf.push(c.confidence) },
      { windowUs: 200_000 },
    );
    let peakRows = 0;
    for (const r of g.records) {
      inferrer.push(r);
      peakRows = Math.max(peakRows, inferrer.heldRows);
    }
    const report = inferrer.finish();
    assert.equal(inferrer.heldRows, 0);
    // About five seconds of log, a 0.2 s window: rows stay near the records held, a fraction of the file.
    assert.ok(peakRows <= report.peakHeld + 100 && peakRows < g.records.length / 4, `peak rows ${peakRows}, held ${report.peakHeld}, of ${g.records.length} records`);
    for (const c of [...conf.filter((x) => x !== undefined), ...callConf]) assert.ok(c >= 0 && c <= 1, `confidence ${c}`);
    assert.equal(conf.filter((x) => x !== undefined).length, report.ins);
    assert.ok(scoreLinks(g.truth, parent, conf).f1 >= 0.95);
  });
});
