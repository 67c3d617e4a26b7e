import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitedSampler } from '../src/sampling/rate-limited.js';
import { ManualClock, TestInput } from './sampling-input.js';

void test('rate-limited: a full bucket of `burst` decisions, then one per 1/rate seconds', () => {
  const clock = new ManualClock();
  const s = rateLimitedSampler({ tracesPerSecond: 10, now: clock.now });
  const input = new TestInput();
  const kept = (n: number): number => {
    let k = 0;
    for (let i = 0; i < n; i++) if (s.shouldSample(input)) k++;
    return k;
  };
  assert.equal(kept(100), 10, 'burst defaults to one second of budget');
  clock.ms += 99;
  assert.equal(kept(5), 0, 'not yet a whole token');
  clock.ms += 1;
  assert.equal(kept(5), 1);
  clock.ms += 60_000;
  assert.equal(kept(100), 10, 'a long pause refills only up to the burst');
  assert.equal(input.traceIdReads, 0, 'never reads (and so never generates) the trace id');
});

void test('rate-limited: holds the average over a simulated minute of 1 decision per ms', () => {
  const clock = new ManualClock();
  const s = rateLimitedSampler({ tracesPerSecond: 50, burst: 5, now: clock.now });
  const input = new TestInput();
  let kept = 0;
  for (let ms = 0; ms < 60_000; ms++) {
    clock.ms++;
    if (s.shouldSample(input)) kept++;
  }
  assert.ok(Math.abs(kept - (5 + 50 * 60)) <= 1, String(kept));
});

void test('rate-limited: fractional rates, zero rate, clock going back', () => {
  const clock = new ManualClock();
  const input = new TestInput();
  const slow = rateLimitedSampler({ tracesPerSecond: 0.5, now: clock.now });
  assert.equal(slow.shouldSample(input), true);
  clock.ms += 1999;
  assert.equal(slow.shouldSample(input), false);
  clock.ms += 1;
  assert.equal(slow.shouldSample(input), true);

  const none = rateLimitedSampler({ tracesPerSecond: 0, now: clock.now });
  clock.ms += 1e9;
  assert.equal(none.shouldSample(input), false);

  const s = rateLimitedSampler({ tracesPerSecond: 10, burst: 1, now: clock.now });
  assert.equal(s.shouldSample(input), true);
  clock.ms -= 3_600_000;
  assert.equal(s.shouldSample(input), false);
  clock.ms += 100;
  assert.equal(s.shouldSample(input), true, 'refill resumes from the stepped-back time');
  assert.equal(String(s), 'RateLimited{10/s, burst=1}');
});

void test('rate-limited: invalid configuration throws', () => {
  for (const tracesPerSecond of [-1, Number.NaN, Infinity, '5' as unknown as number]) {
    assert.throws(() => rateLimitedSampler({ tracesPerSecond }), RangeError, String(tracesPerSecond));
  }
  for (const burst of [0, 0.5, -1, Number.NaN, Infinity]) {
    assert.throws(() => rateLimitedSampler({ tracesPerSecond: 1, burst }), RangeError, String(burst));
  }
  assert.throws(() => rateLimitedSampler(undefined as never), RangeError);
});

void test('rate-limited: default clock works in real time', () => {
  const s = rateLimitedSampler({ tracesPerSecond: 1000, burst: 3 });
  const input = new TestInput();
  let kept = 0;
  for (let i = 0; i < 3; i++) if (s.shouldSample(input)) kept++;
  assert.equal(kept, 3);
});
