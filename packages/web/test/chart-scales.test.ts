import assert from 'node:assert/strict';
import { it } from 'node:test';
import { niceTicks, timeLabel, timeTicks } from '../src/charts/scales.js';

it('value ticks start at 0 and reach a round top at or above the maximum', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(100), [0, 25, 50, 75, 100]);
  assert.deepEqual(niceTicks(0.3), [0, 0.1, 0.2, 0.3]);
  const t = niceTicks(123_456);
  assert.ok(t[t.length - 1]! >= 123_456 && t.length <= 6);
});

it('time ticks fall on whole minutes, inside the range, about six of them', () => {
  const start = Date.UTC(2026, 0, 1, 10, 3, 20) * 1000;
  const end = start + 3600e6;
  const ticks = timeTicks(start, end);
  assert.ok(ticks.length >= 3 && ticks.length <= 7, String(ticks.length));
  for (const t of ticks) {
    assert.ok(t >= start && t <= end);
    assert.equal(t % 60e6, 0);
  }
  assert.match(timeLabel(ticks[0]!, end - start), /^\d\d:\d\d$/);
  assert.match(timeLabel(ticks[0]!, 3 * 86400e6), /^\d\d-\d\d \d\d:\d\d$/);
});
