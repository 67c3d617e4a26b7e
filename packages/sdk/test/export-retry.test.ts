import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from '../src/export/retry-after.js';
import { retryDelayMs } from '../src/export/retry-delay.js';
import { RingQueue } from '../src/export/ring-queue.js';
import { rateLimitedWarn } from '../src/export/error-reporter.js';

void test('Retry-After: delay-seconds and HTTP dates', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 3 ', now), 3000);
  assert.equal(parseRetryAfter('0', now), 0);
  assert.equal(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 01 May 2024 11:59:00 GMT', now), 0, 'a past date means now');
  assert.equal(parseRetryAfter(['7', '9'], now), 7000);
});

void test('Retry-After: malformed values are ignored', () => {
  for (const bad of [undefined, '', '  ', '-5', '1.5', '1e3', 'soon', 'Wed, 99 Foo 2024', '0x10']) {
    assert.equal(parseRetryAfter(bad as string | undefined), undefined, String(bad));
  }
});

void test('retry delay: exponential with jitter, capped, Retry-After wins when longer', () => {
  const policy = { maxAttempts: 5, baseMs: 500, maxMs: 30_000 };
  const low = () => 0;
  const high = () => 0.999999;
  assert.equal(retryDelayMs(policy, 1, undefined, low), 250);
  assert.equal(retryDelayMs(policy, 1, undefined, high), 500);
  assert.equal(retryDelayMs(policy, 3, undefined, low), 1000);
  assert.equal(retryDelayMs(policy, 3, undefined, high), 2000);
  assert.equal(retryDelayMs(policy, 20, undefined, high), 30_000, 'capped');
  assert.equal(retryDelayMs(policy, 1, 4000, high), 4000, 'server asks for longer');
  assert.equal(retryDelayMs(policy, 3, 10, low), 1000, 'server asks for shorter: backoff still applies');
  assert.equal(retryDelayMs(policy, 1, 3_600_000, low), 30_000, 'Retry-After capped');
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) seen.add(retryDelayMs(policy, 2, undefined));
  assert.ok(seen.size > 10, 'jitter spreads retries');
  for (const d of seen) assert.ok(d >= 500 && d <= 1000, String(d));
});

void test('ring queue: FIFO across wrap-around, bounded, releases slots', () => {
  const q = new RingQueue<number>(3);
  assert.equal(q.push(1), true);
  assert.equal(q.push(2), true);
  assert.equal(q.push(3), true);
  assert.equal(q.push(4), false, 'full');
  assert.deepEqual(q.take(2), [1, 2]);
  assert.equal(q.push(5), true);
  assert.equal(q.push(6), true);
  assert.equal(q.push(7), false);
  assert.equal(q.size, 3);
  assert.deepEqual(q.take(10), [3, 5, 6]);
  assert.deepEqual(q.take(1), []);
  assert.equal(q.size, 0);
  for (let i = 0; i < 100; i++) {
    q.push(i);
    assert.deepEqual(q.take(1), [i]);
  }
  assert.throws(() => new RingQueue(0), RangeError);
});

void test('rate-limited warning: first line, then a count of what was suppressed', () => {
  const lines: string[] = [];
  const warn = rateLimitedWarn(40, (l) => lines.push(l));
  warn(new Error('a'));
  warn(new Error('b'));
  warn(new Error('c'));
  assert.deepEqual(lines, ['[linktrace] a']);
  const until = Date.now() + 50;
  while (Date.now() < until) {
    // spin: bounded by 50 ms
  }
  warn(new Error('d'));
  assert.deepEqual(lines, ['[linktrace] a', '[linktrace] d (2 similar messages suppressed)']);
});
