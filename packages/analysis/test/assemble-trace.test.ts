/**
 * The one trace assembly (DESIGN §7): each case here is one where the CLI, the UI and the storage
 * helpers used to disagree (a parent cycle, shared halves, a lost hop, a fan-out) or where the old
 * placeholders were unbounded (a huge rpcid gap).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeZipkinJson } from '@linktrace/model';
import type { Span } from '@linktrace/model';
import { assembleTrace, MAX_GAP_ROWS, siblingGaps, spanHost, type TraceRow } from '../src/index.js';
import { readFixtureJson, span, T0 } from './assembly-support.js';

const tid = '0af7651916cd43dd8448eb211c80319c';
let next = 0;
const at = (rpcid: string | undefined, over: Partial<Span> = {}): Span => {
  const s = span({ traceId: tid, spanId: (++next).toString(16).padStart(16, '0'), ...over });
  if (rpcid !== undefined) s.rpcid = rpcid;
  return s;
};

/** Rows as `depth|what`, for readable comparisons. */
function shape(spans: readonly Span[], rows: readonly TraceRow[]): string[] {
  return rows.map((r) => {
    const indent = '.'.repeat(r.depth);
    if (r.kind === 'span') return `${indent}${spans[r.span]!.name}${r.partner !== undefined ? `+${spans[r.partner]!.name}` : ''}`;
    return `${indent}(${r.text})`;
  });
}

/** Every span is in exactly one row (a folded row holds two). */
function assertEverySpanOnce(spans: readonly Span[], rows: readonly TraceRow[]): void {
  const seen = new Array<number>(spans.length).fill(0);
  for (const r of rows) {
    if (r.kind !== 'span') continue;
    seen[r.span]!++;
    if (r.partner !== undefined) seen[r.partner]!++;
  }
  assert.deepEqual(seen, new Array<number>(spans.length).fill(1));
}

describe('assembleTrace', () => {
  it('shows each span of a parent cycle of three exactly once (the cycle is cut at the first span met)', () => {
    const a = at(undefined, { name: 'a', spanId: 'aaaaaaaaaaaaaaa1', parentSpanId: 'aaaaaaaaaaaaaaa3', startUs: T0 });
    const b = at(undefined, { name: 'b', spanId: 'aaaaaaaaaaaaaaa2', parentSpanId: 'aaaaaaaaaaaaaaa1', startUs: T0 + 10 });
    const c = at(undefined, { name: 'c', spanId: 'aaaaaaaaaaaaaaa3', parentSpanId: 'aaaaaaaaaaaaaaa2', startUs: T0 + 20 });
    const t = assembleTrace([a, b, c]);
    assert.deepEqual(shape(t.spans, t.rows), ['a', '.b', '..c']);
    assertEverySpanOnce(t.spans, t.rows);
    // The same rows whatever order the store returns the spans in.
    assert.deepEqual(shape(assembleTrace([c, b, a]).spans, assembleTrace([c, b, a]).rows), ['c', '.a', '..b']);
  });

  it("folds a Zipkin call's client and server halves into one row that keeps both timings (skew.json)", () => {
    const { spans } = decodeZipkinJson(readFixtureJson('zipkin/skew.json'));
    const t = assembleTrace(spans);
    assertEverySpanOnce(t.spans, t.rows);
    const folded = t.rows.filter((r) => r.kind === 'span' && r.partner !== undefined);
    assert.equal(folded.length, 1);
    const row = folded[0]!;
    assert.ok(row.kind === 'span' && row.partner !== undefined);
    const client = t.spans[row.span]!;
    const server = t.spans[row.partner]!;
    assert.deepEqual([client.kind, server.kind, client.spanId], ['client', 'server', '74280ae0c10d8062']);
    // The row is timed by the caller (the whole call); the server half's own times stay on its span.
    assert.equal(row.startUs, client.startUs);
    assert.equal(row.durationUs, client.durationUs);
    assert.notEqual(server.durationUs, client.durationUs);
    assert.equal(row.skewed, true, "the server half's clock was corrected");
    assert.deepEqual(
      t.clockSkew.map((m) => [t.spans[m.index]!.spanId, t.spans[m.index]!.kind, m.deltaUs]),
      [
        ['43210ae0c10d1234', 'internal', 65922],
        ['74280ae0c10d8062', 'server', 65922],
      ],
    );
    assert.equal(t.rows.length, 3, '4 spans, 3 rows');
  });

  it('times a folded row by the server half while the client half has not ended', () => {
    const client = at(undefined, { name: 'call', spanId: 'cccccccccccccccc', kind: 'client', instance: 'a:1', startUs: T0 });
    delete client.durationUs;
    const server = at(undefined, { name: 'handle', spanId: 'cccccccccccccccc', kind: 'server', shared: true, instance: 'a:2', startUs: T0 + 5, durationUs: 40 });
    const t = assembleTrace([client, server]);
    assert.deepEqual(shape(t.spans, t.rows), ['call+handle']);
    const row = t.rows[0]!;
    assert.ok(row.kind === 'span');
    assert.deepEqual([row.startUs, row.durationUs], [T0 + 5, 40]);
  });

  it('folds an OpenTelemetry client span and the server span below it (ids of their own) into one row with both timings', () => {
    const root = at('0', { name: 'root', kind: 'server', service: 'front', startUs: T0, durationUs: 1000 });
    const client = at('0.1', { name: 'GET /stock', kind: 'client', service: 'front', parentSpanId: root.spanId, startUs: T0 + 10, durationUs: 300 });
    const server = at('0.1', { name: 'GET /stock', kind: 'server', service: 'stock', parentSpanId: client.spanId, startUs: T0 + 40, durationUs: 200 });
    const query = at('0.1.1', { name: 'SELECT', kind: 'client', service: 'stock', parentSpanId: server.spanId, startUs: T0 + 50, durationUs: 20 });
    // A second server child of one client (a retry below one client span) stays a row of its own.
    const retry = at('0.1', { name: 'retry', kind: 'server', service: 'stock', parentSpanId: client.spanId, startUs: T0 + 250, durationUs: 30 });
    // A server span at another position than its client's is not that call's other half.
    const other = at('0.2', { name: 'other', kind: 'client', service: 'front', parentSpanId: root.spanId, startUs: T0 + 400, durationUs: 30 });
    const elsewhere = at('0.2.1', { name: 'elsewhere', kind: 'server', service: 'x', parentSpanId: other.spanId, startUs: T0 + 405, durationUs: 10 });
    const t = assembleTrace([root, client, server, query, retry, other, elsewhere]);
    assertEverySpanOnce(t.spans, t.rows);
    assert.deepEqual(shape(t.spans, t.rows), ['root', '.GET /stock+GET /stock', '..retry', '..SELECT', '.other', '..elsewhere']);
    const row = t.rows[1]!;
    assert.ok(row.kind === 'span');
    assert.deepEqual([row.rpcid, row.startUs, row.durationUs, row.partnerStartUs, row.partnerDurationUs], ['0.1', T0 + 10, 300, T0 + 40, 200]);
  });

  it('draws a lost hop once: the missing parent id and its missing position are one placeholder', () => {
    const root = at('0', { name: 'root', startUs: T0, durationUs: 1000 });
    const lostId = 'dddddddddddddddd';
    const spans = [
      root,
      at('0.1', { name: 'one', parentSpanId: root.spanId, startUs: T0 + 10 }),
      at('0.2.1', { name: 'two-one', parentSpanId: lostId, startUs: T0 + 300 }),
      at('0.2.2', { name: 'two-two', parentSpanId: lostId, startUs: T0 + 400 }),
      at('0.3', { name: 'three', parentSpanId: root.spanId, startUs: T0 + 500 }),
    ];
    const t = assembleTrace(spans);
    assert.deepEqual(shape(t.spans, t.rows), ['root', '.one', `.(lost hop 0.2: missing parent span ${lostId})`, '..two-one', '..two-two', '.three']);
    const hop = t.rows[2]!;
    assert.ok(hop.kind === 'lost-hop');
    assert.deepEqual([hop.spanId, hop.rpcid], [lostId, '0.2']);
    assert.deepEqual(t.gaps, { lostHops: 1, gaps: 0, gapPositions: 0, gapsNotListed: 0 });
  });

  it('a missing parent whose children disagree on a position is a placeholder by id alone', () => {
    const spans = [at(undefined, { name: 'x', parentSpanId: 'eeeeeeeeeeeeeeee', startUs: T0 + 5 }), at(undefined, { name: 'y', parentSpanId: 'eeeeeeeeeeeeeeee', startUs: T0 })];
    const t = assembleTrace(spans);
    assert.deepEqual(shape(t.spans, t.rows), ['(missing parent span eeeeeeeeeeeeeeee)', '.y', '.x']);
  });

  it('a fan-out: one client, three servers with its id on three hosts → one folded row, two more under it', () => {
    const id = 'f0f0f0f0f0f0f0f0';
    const client = at(undefined, { name: 'fan', spanId: id, kind: 'client', service: 'caller', instance: '10.0.0.1:80', startUs: T0, durationUs: 500 });
    const servers = [2, 3, 4].map((h, k) =>
      at(undefined, { name: `s${h}`, spanId: id, parentSpanId: undefined, kind: 'server', shared: true, service: 'callee', instance: `10.0.0.${h}:80`, startUs: T0 + 10 + k, durationUs: 100 }),
    );
    // Each callee made a call of its own below its half.
    const below = [2, 3, 4].map((h) => at(undefined, { name: `db${h}`, parentSpanId: id, kind: 'client', service: 'callee', instance: `10.0.0.${h}:80`, startUs: T0 + 50 + h }));
    const t = assembleTrace([client, ...servers, ...below]);
    assert.equal(t.spans.length, 7, 'each server half is a span of its own');
    assertEverySpanOnce(t.spans, t.rows);
    assert.deepEqual(shape(t.spans, t.rows), ['fan+s2', '.s3', '..db3', '.s4', '..db4', '.db2']);
  });

  it('a huge rpcid segment is one gap row, not millions of placeholders', () => {
    const parts = ['0', '0.3', '0.3.17', '0.3.17.1', '0.3.17.1.1'];
    const spans = [...parts.map((r, k) => at(r, { name: r, startUs: T0 + k })), at('0.3.17.1.1.112512741', { name: 'far', startUs: T0 + 9 })];
    for (let k = 1; k <= 7; k++) spans.push(at(`0.3.17.1.1.112512741.${k}`, { name: `c${k}`, startUs: T0 + 10 + k }));
    const t = assembleTrace(spans);
    assert.equal(t.spans.length, 13);
    const gaps = t.rows.filter((r) => r.kind === 'gap');
    // Under 0: 1–2; under 0.3: 1–16; under 0.3.17.1.1: 1–112512740.
    assert.deepEqual(
      gaps.map((g) => (g.kind === 'gap' ? [g.parent, g.first, g.last, g.count] : [])),
      [
        ['0', '1', '2', 2],
        ['0.3', '1', '16', 16],
        ['0.3.17.1.1', '1', '112512740', 112512740],
      ],
    );
    assert.equal(t.rows.length, 13 + 3);
    const big = gaps[2]!;
    assert.ok(big.kind === 'gap');
    assert.equal(big.text, 'positions 0.3.17.1.1.1–112512740 missing (112,512,740)');
    assert.deepEqual(t.gaps, { lostHops: 0, gaps: 3, gapPositions: 112512758, gapsNotListed: 0 });
    // The gap sits among its siblings, before the span that follows it.
    const order = t.rows.map((r) => (r.kind === 'span' ? t.spans[r.span]!.name : r.kind));
    assert.ok(order.indexOf('gap', order.indexOf('0.3.17.1.1')) < order.indexOf('far'));
  });

  it(`caps gap rows at ${MAX_GAP_ROWS} per trace and counts the rest in one row`, () => {
    const spans = [at('0', { name: 'root' })];
    for (let k = 1; k <= 150; k++) spans.push(at(`0.${2 * k}`, { name: `c${k}` }));
    const t = assembleTrace(spans);
    assert.equal(t.rows.filter((r) => r.kind === 'gap').length, MAX_GAP_ROWS);
    const last = t.rows.at(-1)!;
    assert.ok(last.kind === 'more-gaps');
    assert.deepEqual([last.depth, last.gaps, last.positions, last.text], [0, 50, 50, 'and 50 more gaps (50 positions)']);
    assert.deepEqual(t.gaps, { lostHops: 0, gaps: 150, gapPositions: 150, gapsNotListed: 50 });
    assertEverySpanOnce(t.spans, t.rows);
  });

  it('a lost position with recorded descendants is one placeholder, and a lost root too', () => {
    const spans = [at('0.1', { name: 'one', startUs: T0 }), at('0.1.3', { name: 'three', startUs: T0 + 5 }), at('0.2.1', { name: 'two-one', startUs: T0 + 9 })];
    const t = assembleTrace(spans);
    assert.deepEqual(shape(t.spans, t.rows), ['(lost hop: no span at 0)', '.one', '..(positions 0.1.1–2 missing (2))', '..three', '.(lost hop: no span at 0.2)', '..two-one']);
  });

  it('a deep lost branch is one placeholder row, not one per lost level', () => {
    const deep = `0.7${'.1'.repeat(60)}`;
    const spans = [at('0', { name: 'root' }), at(deep, { name: 'deep' }), at(`${deep}.1`, { name: 'deeper' }), at('0.7.1.1.2', { name: 'side' })];
    const t = assembleTrace(spans);
    // 0.7, 0.7.1 and 0.7.1.1 are lost; 0.7.1.1 has two positions below it (…1 and …2), so the chain
    // 0.7 → 0.7.1.1 is one row, and the lost 0.7.1.1.1 … (57 levels) down to deep's parent another.
    assert.deepEqual(shape(t.spans, t.rows), [
      'root',
      '.(positions 0.1–6 missing (6))',
      '.(lost hops: no span at 0.7 down to 0.7.1.1 (3 positions))',
      `..(lost hops: no span at 0.7.1.1.1 down to ${deep.slice(0, -2)} (57 positions))`,
      '...deep',
      '....deeper',
      '..side',
    ]);
    const chain = t.rows[2]!;
    assert.ok(chain.kind === 'lost-hop');
    assert.deepEqual([chain.rpcid, chain.through], ['0.7', '0.7.1.1']);
    assertEverySpanOnce(t.spans, t.rows);
  });

  it('numbers children from 0 where a 0 is present, from 1 elsewhere, and never reports 0 missing', () => {
    assert.deepEqual(siblingGaps([0n, 1n, 3n]), [[2n, 2n]]);
    assert.deepEqual(siblingGaps([0n, 4n]), [[1n, 3n]]);
    assert.deepEqual(siblingGaps([1n, 3n]), [[2n, 2n]]);
    assert.deepEqual(siblingGaps([3n]), [[1n, 2n]]);
    assert.deepEqual(siblingGaps([0n]), []);
    assert.deepEqual(siblingGaps([112512741n]), [[1n, 112512740n]]);
  });

  it('0-based positions end to end (rpcids with a 0 segment)', () => {
    const spans = [at('0', { name: 'root' }), at('0.0', { name: 'zero' }), at('0.1', { name: 'one' }), at('0.1.1.2.7.1.21.0', { name: 'deep' }), at('0.3', { name: 'three' })];
    const t = assembleTrace(spans);
    const gaps = t.rows.filter((r) => r.kind === 'gap').map((g) => g.rpcid);
    assert.deepEqual(gaps, ['0.1.1.1', '0.1.1.2.1', '0.1.1.2.7.1.1', '0.2']);
  });

  it('a redelivery at P.0.n hangs under its producer: no lost P.0, no missing earlier deliveries', () => {
    const spans = [
      at('0', { name: 'root' }),
      at('0.1', { name: 'publish', kind: 'producer' }),
      at('0.1', { name: 'deliver-1', kind: 'consumer' }),
      at('0.1.1', { name: 'write-1' }),
      at('0.1.0.3', { name: 'deliver-3', kind: 'consumer' }),
      at('0.1.0.3.1', { name: 'write-3' }),
    ];
    const t = assembleTrace(spans);
    assert.deepEqual(t.rows.filter((r) => r.kind !== 'span').map((r) => r.rpcid), []);
    assertEverySpanOnce(t.spans, t.rows);
  });

  it('flags the critical path on rows and lays every span of every Zipkin fixture out once', () => {
    for (const name of ['skew.json', 'messaging.json', 'messaging2.json', 'yelp.json', 'envoy.json', 'ascend.json', 'messaging-kafka.json', 'simple-db-p6.json']) {
      const { spans } = decodeZipkinJson(readFixtureJson(`zipkin/${name}`));
      const t = assembleTrace(spans);
      assertEverySpanOnce(t.spans, t.rows);
      const flagged = t.rows.filter((r) => r.kind === 'span' && r.critical === true).map((r) => (r.kind === 'span' ? t.spans[r.span]!.spanId : ''));
      assert.deepEqual([...new Set(flagged)], [...new Set(t.criticalPath)], name);
      for (let k = 1; k < t.rows.length; k++) assert.ok(t.rows[k]!.depth <= t.rows[k - 1]!.depth + 1, `${name}: rows nest one level at a time`);
    }
  });

  it('is empty for no spans and ignores what is not span-shaped', () => {
    const t = assembleTrace([null as unknown as Span, {} as Span]);
    assert.deepEqual([t.spans, t.rows, t.criticalPath], [[], [], []]);
  });
});

describe('spanHost', () => {
  it('takes the host of host:port, [v6]:port and bare addresses, else the service', () => {
    const host = (instance: string | undefined): string => spanHost(span({ traceId: tid, spanId: 'ffffffffffffffff', service: 'svc', ...(instance === undefined ? {} : { instance }) }));
    assert.equal(host('10.0.0.1:8080'), '10.0.0.1');
    assert.equal(host('10.0.0.1'), '10.0.0.1');
    assert.equal(host('[2001:db8::1]:443'), '2001:db8::1');
    assert.equal(host('2001:db8::1'), '2001:db8::1');
    assert.equal(host('node-7:9000'), 'node-7');
    assert.equal(host(undefined), 'service:svc');
    assert.equal(host(''), 'service:svc');
  });
});
