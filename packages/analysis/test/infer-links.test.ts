import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkInferrer, minCostAssignment, readLogRecord, serviceMapRows, type EmittedCall, type EmittedLink, type InferOptions, type LogRecord } from '../src/index.js';
import { ClockOffsets } from '../src/inference/clock-offsets.js';
import { generateLogs, scoreLinks } from '../src/testing/index.js';
import { span } from '@linktrace/model/testing';

const T = 1_767_225_600_000_000;

let nextLine = 0;
function rec(direction: 'in' | 'out', service: string, instance: string, endpoint: string, startMs: number, endMs: number, extra: Partial<LogRecord> = {}): LogRecord {
  return { line: nextLine++, direction, service, instance, endpoint, startUs: T + Math.round(startMs * 1000), endUs: T + Math.round(endMs * 1000), ...extra };
}

function infer(records: readonly LogRecord[], opts: InferOptions = {}): { links: Map<number, EmittedLink>; calls: Map<number, EmittedCall>; report: ReturnType<LinkInferrer['finish']> } {
  const links = new Map<number, EmittedLink>();
  const calls = new Map<number, EmittedCall>();
  const inferrer = new LinkInferrer({ link: (l) => void links.set(l.record, l), call: (c) => void calls.set(c.record, c) }, opts);
  for (const r of records) inferrer.push(r);
  return { links, calls, report: inferrer.finish() };
}

describe('minCostAssignment', () => {
  it('finds the joint optimum where taking each row’s cheapest column first does not', () => {
    // Row 0 prefers column 0 (1 < 2), but row 1 can only use column 0 cheaply: greedy costs 1 + 100.
    const cost = Float64Array.from([1, 2, 3, 100]);
    assert.deepStrictEqual([...minCostAssignment(cost, 2, 2)], [1, 0]);
  });

  it('handles more columns than rows', () => {
    const cost = Float64Array.from([5, 1, 9, 4, 2, 8]);
    assert.deepStrictEqual([...minCostAssignment(cost, 2, 3)], [1, 0]);
  });
});

describe('ClockOffsets', () => {
  it('finds a host pair’s offset in many wrong candidates and solves one offset per host', () => {
    const clocks = new ClockOffsets();
    for (let i = 0; i < 50; i++) {
      clocks.observe('a', 'b', 3000 + (i % 5) * 10, 0.5); // the true pairs agree: b is 3 ms ahead of a
      clocks.observe('a', 'b', -20_000 + i * 777, 0.5); // the wrong ones spread out
      clocks.observe('b', 'c', -1000 + (i % 3) * 10, 1); // c is 1 ms behind b
    }
    clocks.solve();
    assert.ok(Math.abs(clocks.offset('b') - clocks.offset('a') - 3020) < 60, `b − a = ${clocks.offset('b') - clocks.offset('a')}`);
    assert.ok(Math.abs(clocks.offset('c') - clocks.offset('b') + 990) < 60, `c − b = ${clocks.offset('c') - clocks.offset('b')}`);
    assert.ok(clocks.known('c') && !clocks.known('z'));
  });
});

describe('readLogRecord', () => {
  it('reads a record and names its unknown fields', () => {
    const r = readLogRecord({ direction: 'in', service: 's', instance: '10.0.0.1:80', endpoint: 'GET /', start: 10, end: 20, remote: '10.0.0.2:5000', colour: 'red' }, 3);
    assert.ok('record' in r);
    assert.equal(r.record.line, 3);
    assert.equal(r.record.remote, '10.0.0.2:5000');
    assert.deepStrictEqual(r.unknownFields, ['colour']);
  });

  it('refuses what cannot be used, saying why', () => {
    const base = { direction: 'in', service: 's', instance: 'i:1', endpoint: 'e', start: 10, end: 20 };
    const problem = (v: unknown): string => {
      const r = readLogRecord(v, 0);
      assert.ok('problem' in r, JSON.stringify(v));
      return r.problem;
    };
    assert.match(problem({ ...base, end: 5 }), /before "start"/);
    assert.match(problem({ ...base, direction: 'sideways' }), /direction/);
    assert.match(problem({ ...base, start: 'soon' }), /start/);
    assert.match(problem({ ...base, service: '' }), /service/);
    assert.match(problem([1, 2]), /not a JSON object/);
  });

  it('reads every value right across more distinct texts than it keeps interned', () => {
    // 70 000 connections: more than the interning table holds, so it is cleared on the way.
    for (let i = 0; i < 70_000; i++) {
      const remote = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${40000 + (i % 1000)}`;
      const r = readLogRecord({ direction: 'in', service: 's', instance: `10.0.0.${i % 7}:80`, endpoint: `GET /${i % 13}`, start: i, end: i + 5, remote }, i);
      assert.ok('record' in r);
      if (r.record.remote !== remote || r.record.instance !== `10.0.0.${i % 7}:80` || r.record.endpoint !== `GET /${i % 13}`) assert.fail(`line ${i}: ${JSON.stringify(r.record)}`);
    }
  });
});

describe('LinkInferrer on small crafted logs', () => {
  it('follows an exact connection match (in.remote = out.local) over a closer-looking timing match', () => {
    nextLine = 0;
    const records = [
      rec('in', 'front', '10.0.0.1:80', 'GET /a', 0, 10),
      rec('in', 'front', '10.0.0.2:80', 'GET /a', 0.1, 10.1),
      rec('out', 'front', '10.0.0.1:80', 'GET /b', 1, 5, { local: '10.0.0.1:40001' }),
      rec('out', 'front', '10.0.0.2:80', 'GET /b', 1.05, 5.05, { local: '10.0.0.2:40002' }),
      // Timed like the second call, but on the first call's connection.
      rec('in', 'back', '10.0.0.9:80', 'GET /b', 1.3, 4.75, { remote: '10.0.0.1:40001' }),
      rec('in', 'back', '10.0.0.8:80', 'GET /b', 1.2, 4.8, { remote: '10.0.0.2:40002' }),
    ];
    const { links } = infer(records);
    assert.equal(links.get(4)?.parent, 0);
    assert.equal(links.get(4)?.call, 2);
    assert.equal(links.get(5)?.parent, 1);
    assert.equal(links.get(0)?.parent, null);
    assert.ok(links.get(4)!.confidence > 0.9);
  });

  it('decides calls of overlapping requests jointly: each request gets the call its structure expects', () => {
    nextLine = 0;
    // Teach the structure first: /a calls /x, /b calls /y (never the other way), on one instance,
    // with gaps and tails that vary (so timing alone cannot tell the two apart).
    const records: LogRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const at = i * 100;
      const gap = 0.5 + ((i * 37) % 45) / 10;
      const tail = 2 + ((i * 53) % 180) / 10;
      records.push(rec('in', 'svc', '10.0.0.1:80', 'GET /a', at, at + gap + 3 + tail), rec('out', 'svc', '10.0.0.1:80', 'GET /x', at + gap, at + gap + 3));
      records.push(rec('in', 'svc', '10.0.0.1:80', 'GET /b', at + 50, at + 50 + gap + 3 + tail), rec('out', 'svc', '10.0.0.1:80', 'GET /y', at + 50 + gap, at + 50 + gap + 3));
    }
    // Then an /a and a /b that overlap: the /y call starts closer to /a's start, so "the most
    // recent request" or "the closest start" would give it to /a.
    const b = rec('in', 'svc', '10.0.0.1:80', 'GET /b', 4999.8, 5014);
    const a = rec('in', 'svc', '10.0.0.1:80', 'GET /a', 5000, 5016);
    const y = rec('out', 'svc', '10.0.0.1:80', 'GET /y', 5001, 5004);
    const x = rec('out', 'svc', '10.0.0.1:80', 'GET /x', 5006, 5009);
    records.push(b, a, y, x);
    const { calls } = infer(records);
    assert.equal(calls.get(y.line)?.parent, b.line);
    assert.equal(calls.get(x.line)?.parent, a.line);
  });

  it('links by timing alone across a skewed clock, where nesting by raw time fails', () => {
    nextLine = 0;
    const records: LogRecord[] = [];
    const truth = new Map<number, number>();
    // The callee host's clock is 4 ms ahead: its requests seem to start after the caller's call ended.
    for (let i = 0; i < 40; i++) {
      const at = i * 50;
      const p = rec('in', 'front', '10.0.0.1:80', 'GET /page', at, at + 6);
      const o = rec('out', 'front', '10.0.0.1:80', 'GET /data', at + 1, at + 3);
      const c = rec('in', 'back', '10.0.0.2:80', 'GET /data', at + 1.2 + 4, at + 2.8 + 4);
      records.push(p, o, c);
      truth.set(c.line, p.line);
    }
    const all = records;
    const { links, report } = infer(all);
    let right = 0;
    for (const [child, parent] of truth) if (links.get(child)?.parent === parent) right++;
    assert.ok(right >= 38, `${right} of ${truth.size} linked`);
    assert.ok(Math.abs(report.hostOffsetsUs['10.0.0.2']! - report.hostOffsetsUs['10.0.0.1']! - 4000) < 300, JSON.stringify(report.hostOffsetsUs));
  });

  it('gives a duplicate line the answer of the line it repeats, and counts it', () => {
    nextLine = 0;
    const p = rec('in', 'front', '10.0.0.1:80', 'GET /', 0, 10);
    const o = rec('out', 'front', '10.0.0.1:80', 'GET /b', 1, 5, { local: '10.0.0.1:4000' });
    const c = rec('in', 'back', '10.0.0.2:80', 'GET /b', 1.2, 4.8, { remote: '10.0.0.1:4000' });
    const dup = { ...c, line: 3 };
    const { links, report } = infer([p, o, c, dup]);
    assert.equal(report.duplicates, 1);
    assert.equal(links.get(3)?.parent, 0);
    assert.equal(links.get(3)?.duplicateOf, 2);
  });

  it('takes input out of order within the window, and reports records later than that', () => {
    nextLine = 0;
    const records: LogRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const at = i * 1000;
      records.push(rec('in', 'front', '10.0.0.1:80', 'GET /', at, at + 10));
      records.push(rec('out', 'front', '10.0.0.1:80', 'GET /b', at + 1, at + 5, { local: `10.0.0.1:${5000 + i}` }));
      records.push(rec('in', 'back', '10.0.0.2:80', 'GET /b', at + 1.2, at + 4.8, { remote: `10.0.0.1:${5000 + i}` }));
    }
    // Shuffle within 3 s of log time (the window is 5 s), then one record 40 s late.
    const shuffled = [...records].sort((a, b) => a.startUs + ((a.line * 7919) % 3000) * 1000 - (b.startUs + ((b.line * 7919) % 3000) * 1000));
    const late = shuffled.splice(shuffled.findIndex((r) => r.line === 5), 1)[0]!;
    shuffled.push(late);
    const { links, report } = infer(shuffled, { windowUs: 5_000_000 });
    assert.equal(report.late, 1);
    assert.deepStrictEqual(report.lateLines, [5]);
    assert.equal(links.get(5)?.parent, null, 'the late record is still answered');
    let right = 0;
    for (let i = 0; i < 60; i++) if (i !== 1 && links.get(i * 3 + 2)?.parent === i * 3) right++;
    assert.equal(right, 59);
    assert.equal(links.size, 120);
  });

  it('holds a bounded number of records however long the log (memory follows the window)', () => {
    nextLine = 0;
    let held = 0;
    const inferrer = new LinkInferrer({ link: () => void held++ }, { windowUs: 1_000_000 });
    for (let i = 0; i < 20_000; i++) {
      const at = i * 5;
      inferrer.push(rec('in', 'front', '10.0.0.1:80', 'GET /', at, at + 2));
      inferrer.push(rec('out', 'front', '10.0.0.1:80', 'GET /b', at + 0.5, at + 1.5, { local: `10.0.0.1:${4000 + (i % 100)}` }));
      inferrer.push(rec('in', 'back', '10.0.0.2:80', 'GET /b', at + 0.6, at + 1.4, { remote: `10.0.0.1:${4000 + (i % 100)}` }));
    }
    const report = inferrer.finish();
    assert.equal(held, 40_000);
    // 60 000 records over 100 s of log; a 1 s window holds a few seconds' worth, never the file.
    assert.ok(report.peakHeld < 3000, `peak ${report.peakHeld}`);
  });

  it('decides a host whose clock is wildly wrong as roots, names it, and still links the others', () => {
    nextLine = 0;
    const records: LogRecord[] = [];
    for (let i = 0; i < 200; i++) {
      const at = i * 100;
      records.push(rec('in', 'front', '10.0.0.1:80', 'GET /', at, at + 10));
      records.push(rec('out', 'front', '10.0.0.1:80', 'GET /b', at + 1, at + 5, { local: `10.0.0.1:${5000 + i}` }));
      records.push(rec('in', 'back', '10.0.0.2:80', 'GET /b', at + 1.2, at + 4.8, { remote: `10.0.0.1:${5000 + i}` }));
      // A third host one day ahead.
      records.push(rec('in', 'odd', '10.0.0.3:80', 'GET /z', at + 86_400_000, at + 86_400_010));
    }
    const { links, report } = infer(records, { windowUs: 2_000_000 });
    assert.ok(report.farAhead >= 190, `far ahead: ${report.farAhead}`);
    assert.ok((report.farAheadHosts['10.0.0.3'] ?? 0) >= 190);
    let right = 0;
    for (let i = 0; i < 200; i++) if (links.get(i * 4 + 2)?.parent === i * 4) right++;
    assert.ok(right >= 198, `${right} linked`);
    assert.equal(links.size, 600);
  });
});

describe('LinkInferrer against the seeded generator (ground truth)', () => {
  it('with peer addresses at 0.5 requests in flight: high F1, most traces exact, calibrated', () => {
    const g = generateLogs({ seed: 11, concurrency: 0.5, skewUs: 1000, peers: true, traces: 400 });
    const parent: (number | null)[] = [];
    const conf: number[] = [];
    const inferrer = new LinkInferrer({ link: (l) => ((parent[l.record] = l.parent), (conf[l.record] = l.confidence)) });
    for (const r of g.records) inferrer.push(r);
    inferrer.finish();
    const s = scoreLinks(g.truth, parent, conf);
    assert.ok(s.f1 >= 0.97, `F1 ${s.f1}`);
    assert.ok(s.exactTraces >= 0.85, `exact ${s.exactTraces}`);
    assert.ok(s.ece <= 0.06, `ECE ${s.ece}`);
  });

  it('by timing alone at 0.13 in flight with ±5 ms skew', () => {
    const g = generateLogs({ seed: 12, concurrency: 0.13, skewUs: 5000, peers: false, traces: 400 });
    const parent: (number | null)[] = [];
    const conf: number[] = [];
    const inferrer = new LinkInferrer({ link: (l) => ((parent[l.record] = l.parent), (conf[l.record] = l.confidence)) });
    for (const r of g.records) inferrer.push(r);
    inferrer.finish();
    const s = scoreLinks(g.truth, parent, conf);
    assert.ok(s.f1 >= 0.93, `F1 ${s.f1}`);
    assert.ok(s.ece <= 0.06, `ECE ${s.ece}`);
  });

  it('generates a long log in segments that keep the first segment’s host clocks (the bench’s large log)', () => {
    const first = generateLogs({ seed: 3, concurrency: 0.13, skewUs: 5000, peers: true, traces: 50 });
    const next = generateLogs({ seed: 4, concurrency: 0.13, skewUs: 5000, peers: true, traces: 50, startUs: 2_000_000_000_000_000, skews: first.skews });
    const fresh = generateLogs({ seed: 4, concurrency: 0.13, skewUs: 5000, peers: true, traces: 50, startUs: 2_000_000_000_000_000 });
    const shared = [...first.skews.keys()].filter((ip) => next.skews.has(ip));
    assert.ok(shared.length > 3);
    for (const ip of shared) assert.equal(next.skews.get(ip), first.skews.get(ip), ip);
    assert.ok(shared.some((ip) => fresh.skews.get(ip) !== first.skews.get(ip)), 'a fresh segment draws its own clocks');
    assert.ok(next.records.every((r) => r.startUs >= 2_000_000_000_000_000 - 5000));
  });
});

describe('service map of inferred spans', () => {
  it('keeps inferred calls apart from recorded ones between the same services', () => {
    const mark = { 'linktrace.inferred': true };
    const t1 = 'a'.repeat(32);
    const t2 = 'b'.repeat(32);
    const rows = serviceMapRows([
      span({ traceId: t1, spanId: '1'.repeat(16), service: 'web', kind: 'server' }),
      span({ traceId: t1, spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16), service: 'api', kind: 'server', durationUs: 5 }),
      span({ traceId: t2, spanId: '3'.repeat(16), service: 'web', kind: 'server', attributes: mark }),
      span({ traceId: t2, spanId: '4'.repeat(16), parentSpanId: '3'.repeat(16), service: 'api', kind: 'server', durationUs: 7, attributes: mark }),
    ]);
    assert.deepStrictEqual(rows, [
      { from: 'web', to: 'api', callCount: 1, errorCount: 0, p99Us: 5 },
      { from: 'web', to: 'api', callCount: 1, errorCount: 0, p99Us: 7, inferred: true },
    ]);
  });
});
