/** The ingest step table of bench:ingest: which step a profile sample lands in, and the window. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileSteps, type Step } from '../src/ingest-profile-steps.js';

const ROOT = '/repo/packages';
const frame = (functionName: string, url: string): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber: 0 });

/** A profile tree (id → frame, children) and one 1 ms sample per listed leaf, 1 ms apart from t = 1000 µs. */
function writeProfile(file: string): void {
  const nodes = [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 8, 9, 10, 12] },
    { id: 2, callFrame: frame('receive', `file://${ROOT}/server/dist/src/ingest/receive.js`), children: [3] },
    { id: 3, callFrame: frame('decodeBody', `file://${ROOT}/server/dist/src/ingest/wire-format.js`), children: [4] },
    { id: 4, callFrame: frame('parse', ''), children: [] },
    { id: 5, callFrame: frame('writeSpans', `file://${ROOT}/storage/dist/src/blocks/block-store.js`), children: [6] },
    { id: 6, callFrame: frame('validateSpan', `file://${ROOT}/storage/dist/src/validate.js`), children: [7] },
    { id: 7, callFrame: frame('findSpanProblem', `file://${ROOT}/model/dist/src/codec/validate.js`), children: [] },
    { id: 8, callFrame: frame('(garbage collector)', ''), children: [] },
    { id: 9, callFrame: frame('(idle)', ''), children: [] },
    { id: 10, callFrame: frame('spansStored', `file://${ROOT}/server/dist/src/checker/chain-checker.js`), children: [11] },
    { id: 11, callFrame: frame('compactSpan', `file://${ROOT}/analysis/dist/src/check-span.js`), children: [] },
    { id: 12, callFrame: frame('checkTrace', `file://${ROOT}/analysis/dist/src/check-trace.js`), children: [] },
  ];
  // Samples: parse ×3, findSpanProblem ×2, GC, idle ×4, compactSpan, checkTrace, then parse once more late.
  const samples = [4, 4, 4, 7, 7, 8, 9, 9, 9, 9, 11, 12, 4];
  const timeDeltas = samples.map((_, i) => (i === samples.length - 1 ? 100_000 : 1000));
  writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 200_000, samples, timeDeltas }));
}

describe('profileSteps (bench:ingest)', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-profile-steps-'));
    file = join(dir, 'p.cpuprofile');
    writeProfile(file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const ms = (steps: [Step, number][], step: Step): number => steps.find(([s]) => s === step)![1];

  it('puts each sample in the innermost step, model code in its caller\'s step, the feed apart from check rounds, idle aside', () => {
    const p = profileSteps(file);
    assert.equal(ms(p.steps, 'decode (JSON.parse, OTLP/Zipkin decoders, validation)'), 3 + 100);
    // findSpanProblem is the model's code, but the store called it: the store's step.
    assert.equal(ms(p.steps, 'store (packages/storage)'), 2);
    assert.equal(ms(p.steps, 'GC (on the JavaScript thread)'), 1);
    assert.equal(ms(p.steps, 'checker feed (spansStored)'), 1);
    assert.equal(ms(p.steps, 'checker rounds (checks, findings)'), 1);
    assert.equal(p.idleMs, 4);
    assert.equal(p.busyMs, 108);
  });

  it('keeps only the samples inside the window', () => {
    // Samples end at 1000, 2000, …: the first twelve fall in [0, 12 500] µs, the late parse does not.
    const p = profileSteps(file, { fromUs: 0, toUs: 12_500 });
    assert.equal(ms(p.steps, 'decode (JSON.parse, OTLP/Zipkin decoders, validation)'), 3);
    assert.equal(p.busyMs, 8);
  });
});
