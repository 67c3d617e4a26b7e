import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alwaysOff } from '../src/sampling/always-off.js';
import { alwaysOn } from '../src/sampling/always-on.js';
import { parentBasedSampler } from '../src/sampling/parent-based.js';
import type { Sampler } from '../src/types.js';
import { TestInput, parent } from './sampling-input.js';

/** A sampler that answers `answer` and records that it was asked. */
function probe(answer: boolean, withHook = false): Sampler & { asked: number; ended: number } {
  const s = {
    asked: 0,
    ended: 0,
    shouldSample(): boolean {
      s.asked++;
      return answer;
    },
    toString: () => `Probe(${answer})`,
  };
  return withHook ? Object.assign(s, { onSampledSpanEnd: () => void s.ended++ }) : s;
}

void test('parent-based: root sampler decides for spans without a parent', () => {
  const input = new TestInput();
  assert.equal(parentBasedSampler({ root: alwaysOn() }).shouldSample(input), true);
  assert.equal(parentBasedSampler({ root: alwaysOff() }).shouldSample(input), false);
});

void test('parent-based: defaults follow the sampled flag of local and remote parents', () => {
  const s = parentBasedSampler({ root: alwaysOff() });
  const input = new TestInput();
  for (const isRemote of [true, false]) {
    input.parent = parent(true, isRemote);
    assert.equal(s.shouldSample(input), true, `sampled, remote=${isRemote}`);
    input.parent = parent(false, isRemote);
    assert.equal(s.shouldSample(input), false, `not sampled, remote=${isRemote}`);
  }
  // Only bit 0 of the flags means sampled.
  input.parent = { ...parent(false, true), traceFlags: 0x02 };
  assert.equal(s.shouldSample(input), false);
  input.parent = { ...parent(false, true), traceFlags: 0x03 };
  assert.equal(s.shouldSample(input), true);
  // A context with isRemote absent is a local parent.
  const local = probe(true);
  input.parent = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
  assert.equal(parentBasedSampler({ root: alwaysOff(), localParentSampled: local }).shouldSample(input), true);
  assert.equal(local.asked, 1);
  assert.equal(input.traceIdReads, 0);
});

void test('parent-based: each of the four parent cases uses its own sampler', () => {
  const root = probe(true);
  const rs = probe(false);
  const rn = probe(true);
  const ls = probe(false);
  const ln = probe(true);
  const s = parentBasedSampler({ root, remoteParentSampled: rs, remoteParentNotSampled: rn, localParentSampled: ls, localParentNotSampled: ln });
  const input = new TestInput();
  input.parent = parent(true, true);
  assert.equal(s.shouldSample(input), false);
  input.parent = parent(false, true);
  assert.equal(s.shouldSample(input), true);
  input.parent = parent(true, false);
  assert.equal(s.shouldSample(input), false);
  input.parent = parent(false, false);
  assert.equal(s.shouldSample(input), true);
  input.parent = undefined;
  assert.equal(s.shouldSample(input), true);
  assert.deepEqual([root.asked, rs.asked, rn.asked, ls.asked, ln.asked], [1, 1, 1, 1, 1]);
  assert.match(String(s), /^ParentBased\{root=Probe\(true\), remoteParentSampled=Probe\(false\)/);
});

void test('parent-based: onSampledSpanEnd reaches each adapting delegate once; absent when none adapts', () => {
  assert.equal(parentBasedSampler({ root: alwaysOn() }).onSampledSpanEnd, undefined);
  const adapting = probe(true, true);
  const s = parentBasedSampler({ root: adapting, localParentNotSampled: adapting });
  s.onSampledSpanEnd!();
  s.onSampledSpanEnd!();
  assert.equal(adapting.ended, 2);
  const other = probe(true, true);
  const both = parentBasedSampler({ root: adapting, remoteParentSampled: other });
  both.onSampledSpanEnd!();
  assert.equal(adapting.ended, 3);
  assert.equal(other.ended, 1);
});

void test('parent-based: bad configuration throws', () => {
  assert.throws(() => parentBasedSampler(undefined as never), TypeError);
  assert.throws(() => parentBasedSampler({} as never), TypeError);
  assert.throws(() => parentBasedSampler({ root: {} as Sampler }), TypeError);
  assert.throws(() => parentBasedSampler({ root: alwaysOn(), localParentSampled: 'yes' as never }), TypeError);
});
