import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import type { CliIo } from '../src/cli/cli-io.js';
import { register, traceCommand, traceIdArgument } from '../src/cli/trace.js';
import { formatWaterfall } from '../src/cli/waterfall.js';
import { importCommand } from '../src/cli/import.js';
import { importedTraceId, positionSpanId } from '../src/import/imported-ids.js';
import { buildTraceView } from '../src/query/trace-view.js';
import type { TraceView } from '../src/query/trace-view-types.js';
import { Capture, decodeFixture, tempDir } from './query-test-support.js';

let dir: string;
let data: string;
before(async () => {
  dir = tempDir('lt-trace-');
  data = join(dir, 'data');
  const store = await openEmbeddedStore({ dataDir: data });
  for (const f of ['skew.json', 'messaging2.json']) await store.writeSpans(decodeFixture(f));
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function io(): CliIo & { out: Capture; err: Capture; code?: number } {
  const out = new Capture(false);
  const err = new Capture(false);
  const r: CliIo & { out: Capture; err: Capture; code?: number } = {
    stdout: out,
    stderr: err,
    out,
    err,
    setExitCode: (c) => (r.code = c),
    now: () => Date.UTC(2024, 0, 1),
    env: {},
  };
  return r;
}

function view(spans: Span[]): string {
  return formatWaterfall(buildTraceView(spans[0]!.traceId, spans), { width: 100 });
}

function mk(id: string, over: Partial<Span>): Span {
  return { traceId: 'ab'.repeat(16), spanId: id.padStart(16, '0'), service: 'svc', name: `op${id}`, kind: 'internal', startUs: 1_000_000, durationUs: 100, status: { code: 'unset' }, attributes: {}, events: [], links: [], ...over };
}

void test('waterfall: bars placed and scaled on the trace time line, children indented under parents', () => {
  const out = view([mk('1', { durationUs: 100 }), mk('2', { parentSpanId: '0000000000000001', startUs: 1_000_050, durationUs: 50, service: 'db' })]);
  const lines = out.split('\n');
  assert.equal(lines[0], 'trace abababababababababababababababab  2 spans  2 services  100µs  start 1970-01-01T00:00:01.000Z');
  assert.equal(lines[1], '');
  assert.match(lines[2]!, /^ {2}NAME +SERVICE +DURATION {2}0 +100µs$/);
  const root = lines[3]!;
  const child = lines[4]!;
  assert.match(root, /^ {2}op1 +svc +100µs \|█+\|$/);
  assert.match(child, /^ {4}op2 +db +50µs \| +█+\|$/);
  const bar = (l: string): string => l.slice(l.indexOf('|') + 1, l.lastIndexOf('|'));
  assert.equal(bar(root).length, bar(child).length);
  const w = bar(root).length;
  assert.equal(bar(child).indexOf('█'), w / 2, 'starts half way');
  assert.equal(bar(child).trim().length, w / 2, 'half as long');
  assert.equal(lines.length, 6);
});

void test('waterfall: errors marked, start records shown as unfinished, skewed rows marked ~ (skew.json)', () => {
  const failing = view([
    mk('1', { durationUs: 1000 }),
    mk('2', { parentSpanId: '0000000000000001', status: { code: 'error', message: 'deadlock' }, startUs: 1_000_100 }),
    mk('3', { parentSpanId: '0000000000000001', durationUs: undefined as unknown as number, startUs: 1_000_500 }),
  ].map((s) => {
    if (s.durationUs === undefined) delete s.durationUs;
    return s;
  }));
  assert.match(failing, /1 error\n/);
  assert.match(failing, /\n! {3}op2 +svc +100µs \| *▒+ *\| error: deadlock\n/);
  assert.match(failing, /\n {4}op3 +svc +started \| *░+\| unfinished\n/);

  // A Zipkin span without duration ended (length unknown); one without timestamp says so.
  const zipkin = view([
    mk('1', { durationUs: 1000 }),
    mk('3', { parentSpanId: '0000000000000001', durationUs: undefined as unknown as number, durationUnknown: true, startUs: 1_000_500 }),
    mk('4', { parentSpanId: '0000000000000001', durationUs: 10, startUnknown: true, startUs: 1_000_000 }),
  ].map((s) => {
    if (s.durationUs === undefined) delete s.durationUs;
    return s;
  }));
  assert.doesNotMatch(zipkin, /unfinished|started/);
  assert.match(zipkin, /\n {4}op3 +svc +\? \| *█ *\|\n/);
  assert.match(zipkin, /\n {4}op4 +svc +10µs \|[^|]*\| start unknown\n/);

  const skew = view(decodeFixture('skew.json').sort((a, b) => a.startUs - b.startUs));
  assert.match(skew, /^trace 1e223ff1f80f1c69 {2}4 spans {2}2 services {2}162ms \(99\.4ms skew-corrected\) {2}start 2016-08-02T15:00:04\.008Z\n/);
  assert.match(skew, /\nclock skew corrected on 2 spans \(~\)\n/);
  const rows = skew.split('\n').slice(4, 7);
  assert.match(rows[0]!, /^ {2}get +servicea +99\.4ms \|/);
  // The client half and the server half of the call are one row: caller → callee.
  assert.match(rows[1]!, /^ ~ {2}post +servicea → serviceb +94\.5ms \|/);
  // …with the server half's own time after the bar.
  assert.match(rows[1]!, /\| server \d[\d.]*(?:µs|ms)$/);
  assert.match(rows[2]!, /^ ~ {4}async +serviceb +65ms \|/);
});

void test('waterfall: lost hops — missing rpcid positions in place, a missing parent as a row above its children', async () => {
  const d = tempDir('lt-trace-csv-');
  try {
    const csv = join(d, 'cg.csv');
    writeFileSync(
      csv,
      [
        'timestamp,traceid,rpcid,um,rpctype,interface,dm,rt',
        '1000,0b133c1915919068547876000e8fe5,0.1,USER,http,/home,MS_A,-12',
        '1000,0b133c1915919068547876000e8fe5,0.1,USER,http,/home,MS_A,15',
        '1002,0b133c1915919068547876000e8fe5,0.1.1,MS_A,rpc,getUser,MS_B,7',
        '1004,0b133c1915919068547876000e8fe5,0.1.1.1,MS_B,db,,MS_DB,2',
        '1009,0b133c1915919068547876000e8fe5,0.1.3,MS_A,mq,orders,MS_C,4',
      ].join('\n'),
    );
    const c = io();
    assert.equal(await importCommand([csv], { data: join(d, 'data') }, c), 0, c.err.text);
    const t = io();
    assert.equal(await traceCommand('0b133c1915919068547876000e8fe5', { data: join(d, 'data'), width: '100' }, t), 0, t.err.text);
    const lines = t.out.text.split('\n');
    assert.match(lines[0]!, /^trace 000b133c1915919068547876000e8fe5 {2}5 spans {2}4 services/);
    assert.equal(lines[1], '1 lost hop  ·  1 missing position in 1 gap');
    const rows = lines.slice(4).filter((l) => l !== '').map((l) => l.replace(/\s+\|.*$/, '').replace(/\s+/g, ' ').trim());
    assert.deepEqual(rows, [
      `0 (lost hop 0: missing parent span ${positionSpanId(importedTraceId('0b133c1915919068547876000e8fe5'), '0')})`,
      '0.1 /home USER → MS_A 15ms',
      '0.1.1 getUser MS_A 7ms',
      '0.1.1.1 db MS_B 2ms',
      '0.1.2 (lost hop: no span at 0.1.2)',
      '0.1.3 orders MS_C 4ms',
    ]);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }

  const m = view(decodeFixture('messaging2.json').sort((a, b) => a.startUs - b.startUs));
  assert.match(m, /2 lost hops/);
  const lines = m.split('\n');
  const gap = lines.findIndex((l) => l.includes('(missing parent span 0153a596db406111)'));
  assert.ok(gap > 0);
  assert.match(lines[gap + 1]!, /^ {4}publish +transfer-service/);
});

void test('waterfall: a parent cycle in bad data neither hangs nor hides spans', () => {
  const out = view([mk('1', { parentSpanId: '0000000000000002' }), mk('2', { parentSpanId: '0000000000000001' }), mk('3', {})]);
  for (const n of ['op1', 'op2', 'op3']) assert.equal(out.match(new RegExp(`\\b${n}\\b`, 'g'))?.length, 1, n);
});

void test('waterfall: a huge rpcid gap is one line, not thousands (13 spans, a segment 112512741)', () => {
  const spans = ['0', '0.3', '0.3.17', '0.3.17.1', '0.3.17.1.1', '0.3.17.1.1.112512741', ...[1, 2, 3, 4, 5, 6, 7].map((k) => `0.3.17.1.1.112512741.${k}`)].map((rpcid, k) =>
    mk(String(k + 1), { rpcid, startUs: 1_000_000 + k }),
  );
  const out = view(spans);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[1], '112,512,758 missing positions in 3 gaps');
  assert.equal(lines.length, 4 + 13 + 3);
  assert.ok(lines.some((l) => l.includes('(positions 0.3.17.1.1.1–112512740 missing (112,512,740))')));
});

void test('linktrace trace draws the rows the API assembled, one line per row in the same order', async () => {
  for (const id of ['1e223ff1f80f1c69', '0d1a94ebc9256244']) {
    const json = io();
    assert.equal(await traceCommand(id, { data, json: true }, json), 0);
    const v = JSON.parse(json.out.text) as TraceView;
    const text = io();
    assert.equal(await traceCommand(id, { data, width: '200' }, text), 0);
    const lines = text.out.text.trimEnd().split('\n');
    const body = lines.slice(lines.indexOf('') + 2);
    assert.equal(body.length, v.rows.length, id);
    v.rows.forEach((r, k) => {
      const name = r.kind === 'span' ? v.spans[r.span]!.name || '(no name)' : `(${r.text})`;
      const indent = '  '.repeat(Math.min(r.depth, 20));
      // Two mark columns, then the name indented by the row's depth.
      assert.equal(body[k]!.slice(2, 2 + indent.length + name.length), indent + name, `${id} row ${k}`);
      assert.notEqual(body[k]!.charAt(2 + indent.length - 1 + 1), ' ', `${id} row ${k} is at depth ${r.depth}`);
    });
  }
});

void test('linktrace trace: ids as typed, not found, bad flags, --json, no data directory; registered with commander', async () => {
  assert.equal(traceIdArgument('1E223FF1F80F1C69'), '1e223ff1f80f1c69');
  assert.equal(traceIdArgument('0b133c1915919068547876000e8fe5'), '000b133c1915919068547876000e8fe5');
  const ok = io();
  assert.equal(await traceCommand('1e223ff1f80f1c69', { data }, ok), 0);
  assert.match(ok.out.text, /^trace 1e223ff1f80f1c69 {2}4 spans/);
  assert.equal(ok.err.text, '');
  const json = io();
  assert.equal(await traceCommand('1e223ff1f80f1c69', { data, json: true }, json), 0);
  assert.equal((JSON.parse(json.out.text) as { spanCount: number }).spanCount, 4);
  const missing = io();
  assert.equal(await traceCommand('1e223ff1f80f1c6a', { data }, missing), 1);
  assert.equal(missing.err.text, 'linktrace trace: trace 1e223ff1f80f1c6a not found\n');
  const width = io();
  assert.equal(await traceCommand('1e223ff1f80f1c69', { data, width: '20' }, width), 2);
  assert.match(width.err.text, /--width must be an integer in 60\.\.1000/);
  const nodir = io();
  assert.equal(await traceCommand('1e223ff1f80f1c69', { data: join(dir, 'nope') }, nodir), 1);
  assert.match(nodir.err.text, /no data directory .*nope/);
  const c = io();
  const program = new Command('linktrace').exitOverride();
  register(program, c);
  await program.parseAsync(['node', 'linktrace', 'trace', '0d1a94ebc9256244', '--data', data, '--width', '120']);
  assert.equal(c.code, 0);
  assert.match(c.out.text, /2 lost hops/);
});
