/**
 * When a remedy is re-checked: as soon as its instance reports success (not at the service's next
 * round), and, while its trace is incomplete, again after a back-off that starts at 0.2 s — the
 * time from a finding to its verified repair (bench:remedy) is bounded by these, not by a 1 s round.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ATTR, REMEDY_ATTR, type Finding, type Span } from '@linktrace/model';
import { RemedyService } from '../src/remedies/remedy-service.js';
import { manualClock } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const REMEDY_TRACE = 'c'.repeat(32);

function span(spanId: string, attributes: Record<string, string>): Span {
  return { traceId: REMEDY_TRACE, spanId, service: 'sync-worker', name: 'remedy', kind: 'internal', startUs: 1, durationUs: 1, attributes, events: [], links: [], status: { code: 'unset' } } as unknown as Span;
}

/** A service on a fake store whose remedy trace is whatever `trace` holds; one remedy claimed and run. */
function setUp() {
  const dir = tempDir('lt-recheck-');
  dirs.push(dir);
  const clock = manualClock();
  const trace: Span[] = [];
  let reads = 0;
  const service = new RemedyService({
    dataDir: dir,
    options: { token: 'remedy-token-for-tests', secret: 'a-remedy-secret-of-some-length' },
    store: {
      getTrace: (id: string) => {
        reads++;
        return Promise.resolve(id === REMEDY_TRACE ? [...trace] : []);
      },
      findFindings: () => Promise.resolve([] as Finding[]),
    } as never,
    checking: () => false,
    checkNow: () => [],
    clock: clock.now,
  });
  const { record } = service.book.request(
    { findingId: `${'a'.repeat(32)}-${'b'.repeat(16)}-missing-write`, action: 'replay', rule: 'missing-write', service: 'sync-worker', stage: 'receive', operation: 'consume', entity: { type: 'shop', key: '42', version: '7' }, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) },
    'test',
  );
  const id = record.delivery.id;
  assert.ok(service.book.claim('sync-worker', 'w1', [{ stage: 'receive', actions: ['replay'] }]));
  const own = span('1'.repeat(16), { [REMEDY_ATTR.id]: id });
  const write = span('2'.repeat(16), { [ATTR.stage]: 'write', [ATTR.entityKey]: '42' });
  return { service, clock, trace, id, own, write, reads: () => reads };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('a remedy whose trace is stored when its success is reported is verified then, with no round', async () => {
  const s = setUp();
  s.trace.push(s.own, s.write);
  s.service.book.complete(s.id, 'sync-worker@w1', 'succeeded', { remedyTraceId: REMEDY_TRACE });
  await settle();
  const r = s.service.book.get(s.id)!;
  assert.equal(r.state, 'verified', r.reason);
  await s.service.stop();
});

test('an incomplete remedy trace is looked at again after 0.2 s, 0.4 s, … at most 1 s apart, not before', async () => {
  const s = setUp();
  s.trace.push(s.own); // the write has not arrived yet
  s.service.book.complete(s.id, 'sync-worker@w1', 'succeeded', { remedyTraceId: REMEDY_TRACE });
  await settle();
  assert.equal(s.service.book.get(s.id)!.state, 'succeeded');
  assert.equal(s.reads(), 1);
  // The timer's rounds look only at remedies whose back-off has passed.
  await s.service.verifier.tick(true);
  assert.equal(s.reads(), 1, 'not looked at again before 0.2 s');
  s.clock.advance(200);
  await s.service.verifier.tick(true);
  assert.equal(s.reads(), 2);
  s.clock.advance(200);
  await s.service.verifier.tick(true);
  assert.equal(s.reads(), 2, 'the second gap is 0.4 s');
  s.trace.push(s.write);
  s.clock.advance(200);
  await s.service.verifier.tick(true);
  const r = s.service.book.get(s.id)!;
  assert.equal(r.state, 'verified', r.reason);
  await s.service.stop();
});
