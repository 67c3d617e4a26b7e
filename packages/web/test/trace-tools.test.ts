/**
 * The trace tools' pure parts without a browser: the rpcid column's abbreviation, the zoom window
 * from a drag, and which rows a search in the trace matches.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Span } from '@linktrace/model';
import { buildTraceView } from '@linktrace/server';
import { fractionsOf, windowBetween } from '../src/trace/timeline-zoom.js';
import { matchRows } from '../src/trace/trace-search.js';
import { shortRpcid } from '../src/trace/short-rpcid.js';

it('shortRpcid keeps the tail of a long position, whole segments where they fit', () => {
  assert.equal(shortRpcid('0.1.2'), '0.1.2');
  assert.equal(shortRpcid('0.1.1.1.1.1'), '…1.1.1.1.1');
  assert.equal(shortRpcid('0.12.345.6789'), '…345.6789');
  assert.equal(shortRpcid('0.3.17.1.1.112512741'), '…112512741');
  assert.equal(shortRpcid('0.1.12345678901234'), '…678901234');
  for (const r of ['0.1.1.1.1.1.1.1.1.1.1.1', '0.3.17.1.1.112512741', '0.1.12345678901234']) assert.ok(shortRpcid(r).length <= 10);
});

it('windowBetween: a drag in either direction, clamped; a click is no zoom', () => {
  const base = { startUs: 1000, endUs: 3000 };
  assert.deepEqual(windowBetween(base, 0.5, 0.25), { startUs: 1500, endUs: 2000 });
  assert.deepEqual(windowBetween(base, -0.2, 0.1), { startUs: 1000, endUs: 1200 });
  assert.equal(windowBetween(base, 0.3, 0.301), undefined);
  assert.deepEqual(fractionsOf(base, { startUs: 1500, endUs: 2000 }), { left: 0.25, width: 0.25 });
  assert.deepEqual(fractionsOf(base, { startUs: 0, endUs: 9000 }), { left: 0, width: 1 });
});

it('matchRows: service, name, attribute key and value, status message; a folded call through either half', () => {
  const T = 'b'.repeat(32);
  const base = { traceId: T, startUs: 1000, durationUs: 10, status: { code: 'unset' as const }, attributes: {}, events: [], links: [] };
  const spans: Span[] = [
    { ...base, spanId: '1'.repeat(16), service: 'front', name: 'checkout', kind: 'server', durationUs: 100 },
    { ...base, spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16), service: 'front', name: 'GET', kind: 'client' },
    { ...base, spanId: '3'.repeat(16), parentSpanId: '2'.repeat(16), service: 'stock', name: 'GET', kind: 'server', attributes: { 'order.id': 'A-77' } },
    { ...base, spanId: '4'.repeat(16), parentSpanId: '1'.repeat(16), service: 'mail', name: 'send', kind: 'producer', status: { code: 'error', message: 'Quota exceeded' } },
  ];
  const view = buildTraceView(T, spans);
  assert.equal(view.rows.length, 3, 'the call is one row');
  const names = (q: string): string[] => matchRows(view, q).map((i) => { const r = view.rows[i]!; return r.kind === 'span' ? view.spans[r.span]!.name : r.kind; });
  assert.deepEqual(names('STOCK'), ['GET']);
  assert.deepEqual(names('order.ID'), ['GET']);
  assert.deepEqual(names('a-77'), ['GET']);
  assert.deepEqual(names('quota'), ['send']);
  assert.deepEqual(names('front'), ['checkout', 'GET']);
  assert.deepEqual(names('producer'), ['send']);
  assert.deepEqual(names('   '), []);
});
