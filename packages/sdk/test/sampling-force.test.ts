import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptiveSampler } from '../src/sampling/adaptive.js';
import { alwaysOff } from '../src/sampling/always-off.js';
import { alwaysOn } from '../src/sampling/always-on.js';
import { forceSampling } from '../src/sampling/force-sampling.js';
import type { Sampler } from '../src/types.js';
import { ManualClock, TestInput, baggage, parent } from './sampling-input.js';

void test('force sampling: the debug flag of the parent overrides the delegate', () => {
  const s = forceSampling(alwaysOff());
  const input = new TestInput();
  input.parent = parent(false, true, true);
  assert.equal(s.shouldSample(input), true);
  input.parent = parent(false, false, true);
  assert.equal(s.shouldSample(input), true);
  input.parent = parent(true, true, false);
  assert.equal(s.shouldSample(input), false, 'sampled flag alone is for the delegate to judge');
  input.parent = undefined;
  assert.equal(s.shouldSample(input), false);
  assert.equal(input.traceIdReads, 0);
});

void test('force sampling: baggage key with 1 or true (any case) forces; other values do not', () => {
  const s = forceSampling(alwaysOff());
  const input = new TestInput();
  for (const value of ['1', 'true', 'TRUE', 'True', 'tRuE']) {
    input.baggage = baggage({ other: 'x', 'linktrace.debug': value });
    assert.equal(s.shouldSample(input), true, value);
  }
  for (const value of ['0', 'false', 'yes', '', '11', 'truee', 'tru', ' 1', 'true ', 'TRU\u0005']) {
    input.baggage = baggage({ 'linktrace.debug': value });
    assert.equal(s.shouldSample(input), false, JSON.stringify(value));
  }
  input.baggage = baggage({ 'LINKTRACE.DEBUG': '1', debug: '1' });
  assert.equal(s.shouldSample(input), false, 'the key is exact');
  input.baggage = new Map();
  assert.equal(s.shouldSample(input), false);
});

void test('force sampling: custom baggage key', () => {
  const s = forceSampling(alwaysOff(), { baggageKey: 'x-debug' });
  const input = new TestInput();
  input.baggage = baggage({ 'x-debug': 'true' });
  assert.equal(s.shouldSample(input), true);
  input.baggage = baggage({ 'linktrace.debug': 'true' });
  assert.equal(s.shouldSample(input), false);
  assert.equal(String(s), 'ForceSampling{key=x-debug, AlwaysOff}');
});

void test('force sampling: otherwise the delegate decides, and hears about ended spans', () => {
  const input = new TestInput();
  assert.equal(forceSampling(alwaysOn()).shouldSample(input), true);
  assert.equal(forceSampling(alwaysOn()).onSampledSpanEnd, undefined);
  const clock = new ManualClock();
  const adaptive = adaptiveSampler({ spansPerSecond: 5, now: clock.now });
  const s = forceSampling(adaptive);
  for (let i = 0; i < 50; i++) s.onSampledSpanEnd!();
  clock.ms += 1000;
  s.shouldSample(input);
  assert.ok(Math.abs(adaptive.ratio - 0.1) < 1e-12, String(adaptive.ratio));
});

void test('force sampling: bad configuration throws', () => {
  assert.throws(() => forceSampling(undefined as unknown as Sampler), TypeError);
  assert.throws(() => forceSampling({} as Sampler), TypeError);
  assert.throws(() => forceSampling(alwaysOn(), { baggageKey: '' }), TypeError);
  assert.throws(() => forceSampling(alwaysOn(), { baggageKey: 5 as unknown as string }), TypeError);
});
