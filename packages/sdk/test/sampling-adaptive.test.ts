import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTraceIdGenerator } from '@linktrace/model';
import { adaptiveSampler, type AdaptiveSampler } from '../src/sampling/adaptive.js';
import { parentBasedSampler } from '../src/sampling/parent-based.js';
import { ManualClock, TestInput } from './sampling-input.js';

const gen = createTraceIdGenerator({ ipv4: '10.9.8.7', port: 4242 });

/**
 * Runs `seconds` of synthetic load, a root decision every ms with `rootsPerMs` roots, each kept
 * trace ending `spansPerTrace` spans. Returns the sampled-span rate seen in each second.
 */
function run(s: AdaptiveSampler, clock: ManualClock, seconds: number, rootsPerMs: number, spansPerTrace: number): number[] {
  const input = new TestInput();
  const perSecond: number[] = [];
  for (let sec = 0; sec < seconds; sec++) {
    let spans = 0;
    for (let ms = 0; ms < 1000; ms++) {
      clock.ms++;
      for (let r = 0; r < rootsPerMs; r++) {
        input.traceId = gen();
        if (s.shouldSample(input)) {
          for (let k = 0; k < spansPerTrace; k++) s.onSampledSpanEnd();
          spans += spansPerTrace;
        }
      }
    }
    perSecond.push(spans);
  }
  return perSecond;
}

void test('adaptive: converges on the span budget and follows a change of load', () => {
  const clock = new ManualClock();
  const s = adaptiveSampler({ spansPerSecond: 1000, now: clock.now });
  assert.equal(s.ratio, 1);
  // 20 000 traces/s of 2 spans: 40 000 spans/s offered, ratio should settle near 0.025.
  // (500 kept traces per window: the count's noise is ~5%, the bounds below are ~5 sigma.)
  const busy = run(s, clock, 12, 20, 2);
  assert.ok(busy[0]! > 30_000, 'first window runs at the initial ratio');
  for (const rate of busy.slice(4)) assert.ok(Math.abs(rate - 1000) < 250, `busy: ${busy.join(' ')}`);
  assert.ok(Math.abs(s.ratio - 0.025) < 0.005, String(s.ratio));

  // Load drops tenfold: the ratio climbs (at most x2 per window) back to the budget.
  const calm = run(s, clock, 12, 2, 2);
  assert.ok(calm[0]! < 300, 'the ratio does not jump up at once');
  for (const rate of calm.slice(6)) assert.ok(Math.abs(rate - 1000) < 250, `calm: ${calm.join(' ')}`);
  assert.ok(Math.abs(s.ratio - 0.25) < 0.06, String(s.ratio));
});

void test('adaptive: under a light load it keeps everything; after a quiet spell it opens up again', () => {
  const clock = new ManualClock();
  const s = adaptiveSampler({ spansPerSecond: 10_000, now: clock.now });
  run(s, clock, 3, 1, 2);
  assert.equal(s.ratio, 1);
  const heavy = adaptiveSampler({ spansPerSecond: 100, now: clock.now });
  const input = new TestInput();
  for (let i = 0; i < 100_000; i++) heavy.onSampledSpanEnd();
  clock.ms += 1000;
  heavy.shouldSample(input);
  assert.ok(Math.abs(heavy.ratio - 0.001) < 1e-12, String(heavy.ratio));
  // Three idle seconds (no decision at all), then one decision closes the late window: x2 per second.
  clock.ms += 3000;
  heavy.shouldSample(input);
  assert.ok(Math.abs(heavy.ratio - 0.008) < 1e-12, String(heavy.ratio));
  clock.ms += 10_000;
  heavy.shouldSample(input);
  assert.equal(heavy.ratio, 1);
});

void test('adaptive: never below minRatio, decisions consistent with the trace-id hash', () => {
  const clock = new ManualClock();
  const s = adaptiveSampler({ spansPerSecond: 1, minRatio: 0.05, initialRatio: 0.5, windowMs: 100, now: clock.now });
  assert.equal(s.ratio, 0.5);
  run(s, clock, 3, 5, 20);
  assert.equal(s.ratio, 0.05);
  const input = new TestInput();
  const first = s.shouldSample(input);
  for (let i = 0; i < 5; i++) assert.equal(s.shouldSample(input), first);
  assert.equal(String(s), 'Adaptive{1 spans/s, window=100ms}');
});

void test('adaptive: as the root of parent-based it hears about every ended span', () => {
  const clock = new ManualClock();
  const root = adaptiveSampler({ spansPerSecond: 10, now: clock.now });
  const s = parentBasedSampler({ root });
  const input = new TestInput();
  assert.equal(s.shouldSample(input), true);
  for (let i = 0; i < 1000; i++) s.onSampledSpanEnd!();
  clock.ms += 1000;
  s.shouldSample(input);
  assert.ok(Math.abs(root.ratio - 0.01) < 1e-9, String(root.ratio));
});

void test('adaptive: at ratio 1 the trace id is not read', () => {
  const s = adaptiveSampler({ spansPerSecond: 10, now: new ManualClock().now });
  const input = new TestInput();
  assert.equal(s.shouldSample(input), true);
  assert.equal(input.traceIdReads, 0);
});

void test('adaptive: invalid configuration throws', () => {
  const bad: unknown[] = [
    undefined,
    {},
    { spansPerSecond: 0 },
    { spansPerSecond: -5 },
    { spansPerSecond: Infinity },
    { spansPerSecond: 10, windowMs: 0 },
    { spansPerSecond: 10, windowMs: Number.NaN },
    { spansPerSecond: 10, minRatio: 0 },
    { spansPerSecond: 10, minRatio: 1.5 },
    { spansPerSecond: 10, initialRatio: -0.1 },
    { spansPerSecond: 10, initialRatio: 2 },
  ];
  for (const options of bad) assert.throws(() => adaptiveSampler(options as never), RangeError, JSON.stringify(options));
});
