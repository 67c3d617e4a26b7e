import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTraceIdGenerator } from '@linktrace/model';
import { alwaysOff } from '../src/sampling/always-off.js';
import { alwaysOn } from '../src/sampling/always-on.js';
import { ratioThreshold, traceIdHash } from '../src/sampling/trace-id-hash.js';
import { traceIdRatioSampler } from '../src/sampling/trace-id-ratio.js';
import { TestInput } from './sampling-input.js';

void test('always on / always off: fixed answers, trace id never read', () => {
  const input = new TestInput();
  for (let i = 0; i < 10; i++) {
    assert.equal(alwaysOn().shouldSample(input), true);
    assert.equal(alwaysOff().shouldSample(input), false);
  }
  assert.equal(input.traceIdReads, 0);
  assert.equal(String(alwaysOn()), 'AlwaysOn');
  assert.equal(String(alwaysOff()), 'AlwaysOff');
  assert.equal(alwaysOn().onSampledSpanEnd, undefined);
});

void test('trace id hash: the documented algorithm (values computed independently)', () => {
  assert.equal(traceIdHash(''), 2872998923);
  assert.equal(traceIdHash('4bf92f3577b34da6a3ce929d0e0e4736'), 3785779378);
  assert.equal(traceIdHash('463ac35c9f6413ad'), 3221493954);
  assert.equal(traceIdHash('00000000000000000000000000000001'), 3696499901);
});

void test('ratio threshold: bounds and monotonic', () => {
  assert.equal(ratioThreshold(0), 0);
  assert.equal(ratioThreshold(-1), 0);
  assert.equal(ratioThreshold(Number.NaN), 0);
  assert.equal(ratioThreshold(1), 2 ** 32);
  assert.equal(ratioThreshold(0.5), 2 ** 31);
  assert.ok(ratioThreshold(0.25) < ratioThreshold(0.2500001));
});

void test('ratio: sampled fraction of 100k time-prefixed ids made in a tight loop is within 1% of the ratio', () => {
  const gen = createTraceIdGenerator({ ipv4: '10.0.0.1', port: 8080 });
  const ids: string[] = [];
  for (let i = 0; i < 100_000; i++) ids.push(gen());
  const input = new TestInput();
  for (const ratio of [0.01, 0.1, 0.25, 0.5, 0.9]) {
    const sampler = traceIdRatioSampler(ratio);
    let kept = 0;
    for (const id of ids) {
      input.traceId = id;
      if (sampler.shouldSample(input)) kept++;
    }
    const fraction = kept / ids.length;
    assert.ok(Math.abs(fraction - ratio) < 0.01, `ratio ${ratio}: kept ${fraction}`);
  }
});

void test('ratio: the same id always gets the same answer, in any sampler instance', () => {
  const gen = createTraceIdGenerator({ ipv4: '10.0.0.2', port: 1 });
  const a = traceIdRatioSampler(0.3);
  const b = traceIdRatioSampler(0.3);
  const wider = traceIdRatioSampler(0.6);
  const input = new TestInput();
  let kept = 0;
  for (let i = 0; i < 10_000; i++) {
    input.traceId = gen();
    const first = a.shouldSample(input);
    assert.equal(a.shouldSample(input), first);
    assert.equal(b.shouldSample(input), first);
    // A trace kept at a ratio is kept at every higher ratio.
    if (first) assert.equal(wider.shouldSample(input), true);
    if (first) kept++;
  }
  assert.ok(kept > 2500 && kept < 3500, String(kept));
});

void test('ratio 0 and 1 answer without reading the trace id', () => {
  const input = new TestInput();
  assert.equal(traceIdRatioSampler(1).shouldSample(input), true);
  assert.equal(traceIdRatioSampler(0).shouldSample(input), false);
  assert.equal(input.traceIdReads, 0);
  traceIdRatioSampler(0.5).shouldSample(input);
  assert.equal(input.traceIdReads, 1);
  assert.equal(String(traceIdRatioSampler(0.25)), 'TraceIdRatio{0.25}');
});

void test('ratio: works on foreign id shapes too (16-hex Zipkin, uppercase, empty) without throwing', () => {
  const s = traceIdRatioSampler(0.5);
  for (const id of ['463ac35c9f6413ad', '4BF92F3577B34DA6A3CE929D0E0E4736', '', 'not-an-id']) {
    const input = new TestInput(id);
    assert.equal(typeof s.shouldSample(input), 'boolean');
    assert.equal(s.shouldSample(input), traceIdHash(id) < 2 ** 31);
  }
});

void test('ratio: invalid ratios are rejected at configuration time', () => {
  for (const bad of [-0.1, 1.1, Number.NaN, Infinity, '0.5', undefined]) {
    assert.throws(() => traceIdRatioSampler(bad as number), RangeError, String(bad));
  }
});
