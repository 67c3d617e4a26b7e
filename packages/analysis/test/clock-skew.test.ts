import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeZipkinJson } from '@linktrace/model';
import type { Span } from '@linktrace/model';
import { adjustClockSkew as adjustGraph } from '../src/trace-assembly/clock-skew.js';
import { buildTraceGraph } from '../src/trace-graph.js';
import { readFixtureJson, span } from './assembly-support.js';

/** Skew over the trace graph's parents (the spans here are one record each, so indexes are the input's). */
const adjustClockSkew = (spans: Span[]) => adjustGraph(buildTraceGraph(spans));
const parentIndexes = (spans: Span[]): number[] => Array.from(buildTraceGraph(spans).parent);

const T = 1_000_000_000;
const tid = '0af7651916cd43dd8448eb211c80319c';
const at = (id: string, over: Partial<Span>): Span => span({ traceId: tid, spanId: id, ...over });

describe('adjustClockSkew', () => {
  it("centres Zipkin's skewed server half in its client half and moves its host's spans with it (skew.json)", () => {
    const { spans } = decodeZipkinJson(readFixtureJson('zipkin/skew.json'));
    const before = structuredClone(spans);
    const byId = (list: Span[], id: string, kind: string): number => list.findIndex((s) => s.spanId === id && s.kind === kind);
    const { spans: out, adjustments } = adjustClockSkew(spans);
    const client = out[byId(out, '74280ae0c10d8062', 'client')]!;
    const server = out[byId(out, '74280ae0c10d8062', 'server')]!;
    const async = out[byId(out, '43210ae0c10d1234', 'internal')]!;
    // Client 1470150004074202 for 94539 µs, server 93577 µs: the 962 µs of network split evenly.
    assert.equal(server.startUs, 1470150004074202 + 481);
    assert.equal(async.startUs, 1470150004008762 + 65922);
    assert.ok(server.startUs >= client.startUs && server.startUs + server.durationUs! <= client.startUs + client.durationUs!);
    assert.deepStrictEqual(adjustments, [
      { index: byId(out, '43210ae0c10d1234', 'internal'), spanId: '43210ae0c10d1234', deltaUs: 65922, reason: 'moved-with-host' },
      { index: byId(out, '74280ae0c10d8062', 'server'), spanId: '74280ae0c10d8062', deltaUs: 65922, reason: 'starts-before-parent' },
    ]);
    assert.equal(out[byId(out, 'bf396325699c84bf', 'server')], spans[byId(spans, 'bf396325699c84bf', 'server')], 'untouched spans are the input objects');
    assert.equal(out[byId(out, '74280ae0c10d8062', 'client')], spans[byId(spans, '74280ae0c10d8062', 'client')]);
    assert.deepStrictEqual(spans, before, 'the input is not changed');
  });

  it('centres a call that ends after its parent, and shifts its events too', () => {
    const parent = at('aaaaaaaaaaaaaaa1', { kind: 'client', instance: 'a:1', startUs: T, durationUs: 1000 });
    const child = at('aaaaaaaaaaaaaaa2', { parentSpanId: parent.spanId, kind: 'server', instance: 'b:2', startUs: T + 900, durationUs: 600, events: [{ timeUs: T + 1000, name: 'e' }] });
    const { spans, adjustments } = adjustClockSkew([parent, child]);
    assert.equal(spans[1]!.startUs, T + 200);
    assert.deepStrictEqual(spans[1]!.events, [{ timeUs: T + 300, name: 'e' }]);
    assert.deepStrictEqual(adjustments, [{ index: 1, spanId: child.spanId, deltaUs: -700, reason: 'ends-after-parent' }]);
  });

  it('aligns a child longer than its parent to the parent start only when it starts before it', () => {
    const parent = at('aaaaaaaaaaaaaaa1', { instance: 'a:1', startUs: T, durationUs: 100 });
    const early = at('aaaaaaaaaaaaaaa2', { parentSpanId: parent.spanId, instance: 'b:1', startUs: T - 50, durationUs: 500 });
    const late = at('aaaaaaaaaaaaaaa3', { parentSpanId: parent.spanId, instance: 'c:1', startUs: T + 10, durationUs: 500 });
    const { spans, adjustments } = adjustClockSkew([parent, early, late]);
    assert.equal(spans[1]!.startUs, T);
    assert.equal(spans[2], late);
    assert.deepStrictEqual(adjustments.map((a) => a.index), [1]);
  });

  it('lets a consumer run long after its producer, but not start before it', () => {
    const producer = at('aaaaaaaaaaaaaaa1', { kind: 'producer', instance: 'a:1', startUs: T, durationUs: 10 });
    const later = at('aaaaaaaaaaaaaaa2', { parentSpanId: producer.spanId, kind: 'consumer', instance: 'b:1', startUs: T + 5000, durationUs: 300 });
    const early = at('aaaaaaaaaaaaaaa3', { parentSpanId: producer.spanId, kind: 'consumer', instance: 'c:1', startUs: T - 70, durationUs: 300 });
    const { spans, adjustments } = adjustClockSkew([producer, later, early]);
    assert.equal(spans[1], later);
    assert.equal(spans[2]!.startUs, T);
    assert.deepStrictEqual(adjustments, [{ index: 2, spanId: early.spanId, deltaUs: 70, reason: 'starts-before-parent' }]);
  });

  it('never shifts a child timed by the same host clock (same host, another port or service)', () => {
    const parent = at('aaaaaaaaaaaaaaa1', { service: 'a', instance: '10.0.0.1:80', startUs: T, durationUs: 100 });
    const child = at('aaaaaaaaaaaaaaa2', { service: 'b', parentSpanId: parent.spanId, instance: '10.0.0.1:81', startUs: T - 500, durationUs: 50 });
    const v6 = at('aaaaaaaaaaaaaaa3', { service: 'c', parentSpanId: parent.spanId, instance: '[::1]:80', startUs: T - 500, durationUs: 50 });
    const v6child = at('aaaaaaaaaaaaaaa4', { service: 'd', parentSpanId: v6.spanId, instance: '::1', startUs: T - 900, durationUs: 10 });
    const { adjustments } = adjustClockSkew([parent, child, v6, v6child]);
    assert.deepStrictEqual(adjustments.map((a) => [a.index, a.reason]), [
      [2, 'starts-before-parent'],
      [3, 'moved-with-host'],
    ]);
  });

  it('compares a grandchild on a third host with its parent as corrected', () => {
    const a = at('aaaaaaaaaaaaaaa1', { instance: 'a', startUs: T, durationUs: 1000 });
    const b = at('aaaaaaaaaaaaaaa2', { parentSpanId: a.spanId, instance: 'b', startUs: T - 10_000, durationUs: 800 });
    // Fits in b as recorded, but b moves by +10 100: c (on its own clock) is then before it.
    const c = at('aaaaaaaaaaaaaaa3', { parentSpanId: b.spanId, instance: 'c', startUs: T - 9900, durationUs: 100 });
    const { spans } = adjustClockSkew([a, b, c]);
    assert.equal(spans[1]!.startUs, T + 100);
    assert.equal(spans[2]!.startUs, T + 100 + 350);
  });

  it('survives bad data: a parent cycle (cut, then laid out like any tree), missing parents, start records, an empty trace', () => {
    const x = at('aaaaaaaaaaaaaaa1', { parentSpanId: 'aaaaaaaaaaaaaaa2', instance: 'a', startUs: T });
    const y = at('aaaaaaaaaaaaaaa2', { parentSpanId: 'aaaaaaaaaaaaaaa1', instance: 'b', startUs: T - 100 });
    const orphan = at('aaaaaaaaaaaaaaa3', { parentSpanId: 'ffffffffffffffff', instance: 'c', startUs: 0 });
    const root = at('aaaaaaaaaaaaaaa4', { instance: 'a', startUs: T });
    const started = at('aaaaaaaaaaaaaaa5', { parentSpanId: root.spanId, instance: 'z', startUs: T - 5 });
    delete started.durationUs;
    const { spans, adjustments } = adjustClockSkew([x, y, orphan, root, started]);
    // The cycle x → y → x is cut at x (the first met), so y is x's child and is timed against it.
    assert.deepStrictEqual(adjustments, [
      { index: 1, spanId: y.spanId, deltaUs: 100, reason: 'starts-before-parent' },
      { index: 4, spanId: started.spanId, deltaUs: 5, reason: 'starts-before-parent' },
    ]);
    assert.equal(spans[0], x);
    assert.deepStrictEqual(adjustClockSkew([]), { spans: [], adjustments: [] });
  });
});

describe('trace graph parents (shared halves)', () => {
  it("puts a shared server half under its client half, and the id's children under the half on their host", () => {
    const client = at('bbbbbbbbbbbbbbb1', { kind: 'client', instance: 'a:1' });
    const server = at('bbbbbbbbbbbbbbb1', { kind: 'server', instance: 'b:1', shared: true });
    const onServer = at('bbbbbbbbbbbbbbb2', { parentSpanId: client.spanId, instance: 'b:1' });
    const onClient = at('bbbbbbbbbbbbbbb3', { parentSpanId: client.spanId, instance: 'a:1' });
    const elsewhere = at('bbbbbbbbbbbbbbb4', { parentSpanId: client.spanId, instance: 'c:1' });
    const lost = at('bbbbbbbbbbbbbbb5', { parentSpanId: 'eeeeeeeeeeeeeeee' });
    assert.deepStrictEqual(parentIndexes([client, server, onServer, onClient, elsewhere, lost]), [-1, 0, 1, 0, 1, -1]);
  });
});
