import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Span, SpanKind } from '@linktrace/model';
import { criticalPath } from '../src/index.js';
import { ID, T0, shopSync, startRecord, without } from './shop-sync.js';

const TRACE = 'fedcba9876543210fedcba9876543210';

function s(id: string, parent: string | undefined, atMs: number, ms: number | undefined, kind: SpanKind = 'internal', over: Partial<Span> = {}): Span {
  const span: Span = {
    traceId: TRACE,
    spanId: id.padStart(16, '0'),
    service: 'svc',
    name: id,
    kind,
    startUs: T0 + atMs * 1000,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...over,
  };
  if (ms !== undefined) span.durationUs = ms * 1000;
  if (parent !== undefined) span.parentSpanId = parent.padStart(16, '0');
  return span;
}

const ids = (...short: string[]): string[] => short.map((x) => x.padStart(16, '0'));

describe('criticalPath', () => {
  it('a Zipkin span of unknown start (start 0 as decoded) or length neither leads nor breaks the path', () => {
    const spans = [
      s('1', undefined, 0, 100),
      s('2', '1', 10, 50),
      s('3', '1', 0, 30, 'internal', { startUs: 0, startUnknown: true }),
      s('4', '1', 20, undefined, 'internal', { durationUnknown: true }),
      s('5', '2', 15, 40),
    ];
    assert.deepEqual(criticalPath(spans), ids('1', '2', '5'));
    assert.deepEqual(criticalPath([s('9', undefined, 0, undefined, 'server', { startUs: 0, startUnknown: true, durationUnknown: true })]), ids('9'));
  });
  it('is empty for no spans and for input that holds no span', () => {
    assert.deepEqual(criticalPath([]), []);
    assert.deepEqual(criticalPath([null, 7, { nope: true }] as unknown as Span[]), []);
  });

  it('is the span itself for a single span (also a start record)', () => {
    assert.deepEqual(criticalPath([s('a', undefined, 0, 10)]), ids('a'));
    assert.deepEqual(criticalPath([s('a', undefined, 0, undefined)]), ids('a'));
  });

  it('follows the parallel child that finishes last, at every level', () => {
    const spans = [
      s('r', undefined, 0, 100),
      s('fast', 'r', 5, 20),
      s('slow', 'r', 5, 80),
      s('slow-a', 'slow', 10, 30),
      s('slow-b', 'slow', 45, 35),
      s('fast-a', 'fast', 6, 10),
    ];
    assert.deepEqual(criticalPath(spans), ids('r', 'slow', 'slow-b'));
  });

  it('on a tie in end time takes the child that started later (it ran last)', () => {
    const spans = [s('r', undefined, 0, 100), s('early', 'r', 10, 50), s('late', 'r', 40, 20)];
    assert.deepEqual(criticalPath(spans), ids('r', 'late'));
  });

  it('follows an async consumer that ends long after its producer and the root returned', () => {
    const spans = [
      s('r', undefined, 0, 50, 'server'),
      s('db', 'r', 5, 40, 'client'),
      s('pub', 'r', 10, 2, 'producer'),
      s('con', 'pub', 200, 300, 'consumer', { service: 'worker' }),
      s('work', 'con', 210, 100, 'internal', { service: 'worker' }),
    ];
    assert.deepEqual(criticalPath(spans), ids('r', 'pub', 'con', 'work'));
  });

  it('follows a consumer that has no parent through its link to the producer', () => {
    const spans = [
      s('r', undefined, 0, 50, 'server'),
      s('db', 'r', 5, 40, 'client'),
      s('pub', 'r', 10, 2, 'producer'),
      s('con', undefined, 200, 300, 'consumer', { service: 'worker', links: [{ traceId: TRACE, spanId: 'pub'.padStart(16, '0') }] }),
    ];
    assert.deepEqual(criticalPath(spans), ids('r', 'pub', 'con'));
  });

  it('starts from the real root when a subtree lost its parent, and from the earliest orphan when the root is missing', () => {
    const spans = [s('r', undefined, 0, 100), s('a', 'r', 10, 20), s('lost', 'gone', 50, 500), s('lost-child', 'lost', 60, 10)];
    assert.deepEqual(criticalPath(spans), ids('r', 'a'));
    const noRoot = [s('x', 'gone', 10, 30), s('y', 'gone', 5, 50), s('y1', 'y', 6, 40)];
    assert.deepEqual(criticalPath(noRoot), ids('y', 'y1'));
  });

  it('a start record without its end counts as running until the last work below it ends', () => {
    const spans = [s('r', undefined, 0, 100), s('open', 'r', 10, undefined), s('open-child', 'open', 20, 70), s('done', 'r', 15, 60)];
    assert.deepEqual(criticalPath(spans), ids('r', 'open', 'open-child'));
  });

  it('merges a start record with its end record', () => {
    const spans = [s('r', undefined, 0, 100), s('a', 'r', 10, undefined), s('b', 'r', 20, 30), s('a', 'r', 10, 80)];
    assert.deepEqual(criticalPath(spans), ids('r', 'a'));
  });

  it('shop-sync: merchant-api → queue → sync-worker → shop-query, the slow branch', () => {
    assert.deepEqual(criticalPath(shopSync()), [ID.apiReceive, ID.apiEnqueue, ID.workerReceive, ID.workerHttp, ID.queryReceive, ID.queryWrite]);
    // Without the http hop the worker's redis write (135–140 ms) ends after its mysql write (110–130 ms).
    const cut = without(shopSync(), ID.workerHttp, ID.queryReceive, ID.queryWrite);
    assert.deepEqual(criticalPath(cut), [ID.apiReceive, ID.apiEnqueue, ID.workerReceive, ID.workerRedis]);
    // The consumer still running: it stays on the path.
    const running = shopSync().map((x) => (x.spanId === ID.workerReceive ? startRecord(x) : x));
    assert.deepEqual(criticalPath(running).slice(0, 3), [ID.apiReceive, ID.apiEnqueue, ID.workerReceive]);
  });
});
