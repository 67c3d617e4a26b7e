import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { decodeOtlpJson, decodeZipkinJson, encodeZipkinJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { importCommand, register } from '../src/cli/import.js';
import type { CliIo } from '../src/cli/cli-io.js';
import { DEFAULT_CALLGRAPH_BASE_US } from '../src/import/callgraph-csv.js';
import { HttpSink } from '../src/import/http-sink.js';
import { importedTraceId, positionSpanId } from '../src/import/imported-ids.js';
import { runImport } from '../src/import/import-run.js';
import { Capture, FIXTURES, readZipkinFixture, tempDir } from './query-test-support.js';

const dirs: string[] = [];
function scratch(): string {
  const d = tempDir('lt-import-');
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function io(stderrTTY = false): CliIo & { out: Capture; err: Capture; code: number | undefined } {
  const out = new Capture();
  const err = new Capture(stderrTTY, 100);
  const r = {
    stdout: out,
    stderr: err,
    out,
    err,
    code: undefined as number | undefined,
    setExitCode(c: number) {
      r.code = c;
    },
    now: () => 1_700_000_000_000,
    env: {},
  };
  return r;
}

async function readStore(dir: string, traceIds: string[]): Promise<Span[][]> {
  const store = await openEmbeddedStore({ dataDir: dir });
  try {
    return await store.getTraces(traceIds);
  } finally {
    await store.close();
  }
}

const CSV_2022 = [
  ',timestamp,traceid,service,rpc_id,rpctype,um,uminstanceid,interface,dm,dminstanceid,rt',
  '0,1000,0b133c1915919068547876000e8fe5,S_1,0.1,http,USER,(?),/home,MS_A,MS_A_i1,-12',
  '1,1000,0b133c1915919068547876000e8fe5,S_1,0.1,http,USER,(?),/home,MS_A,MS_A_i1,15',
  '2,1002,0b133c1915919068547876000e8fe5,S_1,0.1.1,rpc,MS_A,MS_A_i1,getUser,MS_B,MS_B_i3,7',
  '3,1003,0b133c1915919068547876000e8fe5,S_1,0.1.1,rpc,MS_A,MS_A_i1,getUser,MS_B,MS_B_i3,-5',
  '4,1004,0b133c1915919068547876000e8fe5,S_1,0.1.1.1,db,MS_B,MS_B_i3,,MS_DB,,2',
  '5,1009,0b133c1915919068547876000e8fe5,S_1,0.1.3,mq,MS_A,MS_A_i1,"orders,created",MS_C,MS_C_i1,4',
  '6,1010,0b133c1915919068547876000e8fe5,S_1,0.x,rpc,MS_A,MS_A_i1,bad,MS_B,,3',
  '7,soon,0b133c1915919068547876000e8fe5,S_1,0.1.4,rpc,MS_A,MS_A_i1,bad,MS_B,,3',
  '8,1011,0b133c1915919068547876000e8fe5,S_1,0.1.5,rpc,MS_A,MS_A_i1,"unclosed,MS_B,,3',
  '',
  '9,1012,,S_1,0.1.6,rpc,MS_A,,x,MS_B,,3',
].join('\r\n');

void test('call-graph CSV: rows become spans linked by rpcid; both halves of a call share a span id; bad rows counted with line numbers', async () => {
  const d = scratch();
  const file = join(d, 'CallGraph_0.csv');
  writeFileSync(file, CSV_2022);
  const data = join(d, 'data');
  const c = io();
  assert.equal(await importCommand([file], { data }, c), 0);
  assert.match(c.out.text, /^imported 6 spans from 1 file \(\d+(\.\d)? (B|kB)\) into .*data in \S+, 4 bad lines\n$/);
  assert.equal(c.err.text, [
    'problems:',
    `  ${file}:8: rpcid "0.x": not a position id like 0.1.2`,
    `  ${file}:9: timestamp "soon" is not a number of ms`,
    `  ${file}:10: a quoted field is not closed`,
    `  ${file}:12: traceid is empty`,
    '',
  ].join('\n'));

  const traceId = importedTraceId('0b133c1915919068547876000e8fe5');
  assert.equal(traceId, '000b133c1915919068547876000e8fe5');
  const [spans] = await readStore(data, [traceId]);
  const byKey = new Map(spans!.map((s) => [`${s.rpcid}/${s.kind}`, s]));
  assert.deepEqual([...byKey.keys()].sort(), ['0.1.1.1/client', '0.1.1/client', '0.1.1/server', '0.1.3/consumer', '0.1/client', '0.1/server']);
  const server = byKey.get('0.1/server')!;
  const client = byKey.get('0.1/client')!;
  assert.equal(server.spanId, client.spanId);
  assert.equal(server.spanId, positionSpanId(traceId, '0.1'));
  assert.equal(client.parentSpanId, positionSpanId(traceId, '0'), 'the parent of 0.1 is position 0, absent from the file');
  assert.equal(server.service, 'MS_A');
  assert.equal(server.instance, 'MS_A_i1');
  assert.equal(server.shared, true);
  assert.deepEqual(server.remote, { service: 'USER' });
  assert.equal(server.durationUs, 12_000);
  assert.equal(server.startUs, DEFAULT_CALLGRAPH_BASE_US + 1_000_000);
  assert.equal(client.service, 'USER');
  assert.equal(client.instance, '(?)');
  assert.equal(client.durationUs, 15_000);
  assert.equal(client.name, '/home');
  assert.deepEqual(client.attributes, { 'alibaba.traceid': '0b133c1915919068547876000e8fe5', 'alibaba.rpctype': 'http', 'alibaba.service': 'S_1' });
  const callee = byKey.get('0.1.1/client')!;
  assert.equal(callee.service, 'MS_A');
  assert.equal(callee.parentSpanId, server.spanId);
  const db = byKey.get('0.1.1.1/client')!;
  assert.equal(db.service, 'MS_B');
  assert.equal(db.name, 'db', 'no interface: the rpc type names the span');
  assert.deepEqual(db.remote, { service: 'MS_DB' });
  assert.equal(db.parentSpanId, positionSpanId(traceId, '0.1.1'));
  const mq = byKey.get('0.1.3/consumer')!;
  assert.equal(mq.service, 'MS_C');
  assert.equal(mq.name, 'orders,created', 'quoted field with a comma');
  assert.equal(mq.durationUs, 4000);
});

void test('call-graph CSV: v2021 columns, --base-time, epoch-ms timestamps kept, missing columns refuse the file', async () => {
  const d = scratch();
  const v2021 = join(d, 'MSCallGraph_0.csv');
  writeFileSync(v2021, 'timestamp,traceid,rpcid,um,rpctype,interface,dm,rt\n0,015101cd15919399974329000e,0,USER,http,/x,MS_1,-3\n16397576,015101cd15919399974329000e,0.1,MS_1,rpc,y,MS_2,13\n');
  const epoch = join(d, 'epoch.csv');
  writeFileSync(epoch, 'traceid,timestamp,rpcid,um,dm,rt\nabc,1700000000123,0.1,A,B,1\n');
  const noRpcid = join(d, 'other.csv');
  writeFileSync(noRpcid, 'traceid,timestamp,um,dm\nabc,1,A,B\n');
  const data = join(d, 'data');
  const c = io();
  assert.equal(await importCommand([v2021, epoch, noRpcid], { data, baseTime: '2024-01-01T00:00:00Z' }, c), 0);
  assert.match(c.out.text, /imported 3 spans from 3 files .*, 1 bad line\n/);
  assert.match(c.err.text, /other\.csv:1: not a call-graph CSV header: no rpcid\/rpc_id column/);
  const base = Date.UTC(2024, 0, 1) * 1000;
  const [t1, t2] = await readStore(data, [importedTraceId('015101cd15919399974329000e'), importedTraceId('abc')]);
  assert.deepEqual(t1!.map((s) => [s.rpcid, s.kind, s.service, s.startUs, s.durationUs]), [
    ['0', 'server', 'MS_1', base, 3000],
    ['0.1', 'client', 'MS_1', base + 16_397_576_000, 13_000],
  ]);
  assert.equal(t1![0]!.parentSpanId, undefined, 'the root position has no parent');
  // --base-time applies to every timestamp, epoch-looking or not.
  assert.equal(t2![0]!.startUs, base + 1_700_000_000_123_000);

  const d2 = join(d, 'data2');
  assert.equal(await importCommand([epoch], { data: d2 }, io()), 0);
  const [t3] = await readStore(d2, [importedTraceId('abc')]);
  assert.equal(t3![0]!.startUs, 1_700_000_000_123_000, 'epoch ms used as they are without --base-time');
  assert.equal(importedTraceId('abc'), '0000000000000abc');
  assert.match(importedTraceId('not-hex!'), /^[0-9a-f]{32}$/);
  assert.equal(importedTraceId('not-hex!'), importedTraceId('NOT-HEX!'.toLowerCase()));
});

function jsonLineRecord(spanId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@timestamp': '2023-11-14T22:13:20.000Z',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId,
    parentSpanId: null,
    rpcid: '0',
    service: 'checkout',
    instance: '10.0.0.5:8080',
    name: 'POST /orders',
    kind: 'server',
    startUs: 1_700_000_000_000_000,
    durationUs: 1500,
    startRecord: false,
    status: 'error',
    statusMessage: 'boom',
    attributes: { 'http.status_code': 500, 'linktrace.stage': 'receive', tags: '["a","b"]' },
    events: [{ timeUs: 1_700_000_000_000_100, name: 'retry', attributes: { attempt: 2 } }],
    links: [],
    resource: { 'deployment.environment': 'test' },
    scope: '@linktrace/sdk',
    scopeVersion: '0.1.0',
    remoteService: null,
    remoteAddress: '10.0.0.9',
    remotePort: 443,
    ...extra,
  };
}

void test('JSON lines: SDK exporter records, native spans, Zipkin and OTLP values per line; bad lines counted, empty lines ignored', async () => {
  const d = scratch();
  const otlp = readFileSync(join(FIXTURES, 'otlp', 'example-trace.json'), 'utf8');
  const lines = [
    JSON.stringify(jsonLineRecord('00f067aa0ba902b7')),
    JSON.stringify(jsonLineRecord('00f067aa0ba902b8', { parentSpanId: '00f067aa0ba902b7', rpcid: '0.1', durationUs: null, startRecord: true, status: 'unset', statusMessage: null, remoteAddress: null, remotePort: null })),
    '',
    '{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "zz", "startUs": 1}',
    'not json at all',
    JSON.stringify(readZipkinFixture('skew.json')),
    JSON.stringify(JSON.parse(otlp)),
    JSON.stringify({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b9', service: 'native', name: 'n', kind: 'internal', startUs: 1_700_000_000_000_200, status: { code: 'ok' }, attributes: {} }),
    '{"hello": "world"}',
    '   ',
  ];
  const file = join(d, 'spans.jsonl');
  writeFileSync(file, lines.join('\n'));
  const data = join(d, 'data');
  const c = io();
  assert.equal(await importCommand([file], { data }, c), 0);
  assert.match(c.out.text, /^imported 8 spans from 1 file .*, 3 bad lines\n$/);
  const problems = c.err.text.split('\n');
  assert.match(problems[1]!, /spans\.jsonl:4: .*spanId/);
  assert.match(problems[2]!, /spans\.jsonl:5: not valid JSON/);
  assert.match(problems[3]!, /spans\.jsonl:9: json: not a span/);

  const [t] = await readStore(data, ['4bf92f3577b34da6a3ce929d0e0e4736']);
  const root = t!.find((s) => s.spanId === '00f067aa0ba902b7')!;
  assert.deepEqual(root.status, { code: 'error', message: 'boom' });
  assert.equal(root.rpcid, '0');
  assert.equal(root.instance, '10.0.0.5:8080');
  assert.equal(root.attributes['http.status_code'], 500);
  assert.equal(root.attributes.tags, '["a","b"]');
  assert.deepEqual(root.events, [{ timeUs: 1_700_000_000_000_100, name: 'retry', attributes: { attempt: 2 } }]);
  assert.deepEqual(root.resource, { 'deployment.environment': 'test' });
  assert.deepEqual(root.scope, { name: '@linktrace/sdk', version: '0.1.0' });
  assert.deepEqual(root.remote, { ipv4: '10.0.0.9', port: 443 });
  const start = t!.find((s) => s.spanId === '00f067aa0ba902b8')!;
  assert.equal(start.durationUs, undefined, 'a start record stays a start record');
  assert.equal(start.parentSpanId, '00f067aa0ba902b7');
  assert.equal(t!.find((s) => s.spanId === '00f067aa0ba902b9')!.status.code, 'ok');
});

void test('a directory: OTLP and Zipkin fixtures read recursively, .gz files too, every span stored', async () => {
  const d = scratch();
  const root = join(d, 'in');
  mkdirSync(join(root, 'jaeger'), { recursive: true });
  mkdirSync(join(root, 'zipkin', 'deeper'), { recursive: true });
  let want = 0;
  for (const f of readdirSync(join(FIXTURES, 'jaeger', 'traces'))) {
    const text = readFileSync(join(FIXTURES, 'jaeger', 'traces', f), 'utf8');
    want += decodeOtlpJson(JSON.parse(text)).spans.length;
    writeFileSync(join(root, 'jaeger', f), text);
  }
  const kafka = readZipkinFixture('messaging-kafka.json');
  want += kafka.length;
  writeFileSync(join(root, 'zipkin', 'deeper', 'kafka.json.gz'), gzipSync(JSON.stringify(kafka)));
  const ascend = readZipkinFixture('ascend.json');
  want += ascend.length;
  // A .json file that holds JSON lines is detected from its content.
  writeFileSync(join(root, 'zipkin', 'lines.json'), ascend.map((s) => JSON.stringify(s)).join('\n'));
  writeFileSync(join(root, 'README.md'), '# not a trace file');
  writeFileSync(join(root, '.hidden.json'), '[]');
  const data = join(d, 'data');
  const c = io();
  assert.equal(await importCommand([root], { data }, c), 0);
  const files = readdirSync(join(FIXTURES, 'jaeger', 'traces')).length + 2;
  assert.match(c.out.text, new RegExp(`^imported ${want} spans from ${files} files .*, 0 bad lines\\n$`));
  assert.equal(c.err.text, '');
  const [k, a] = await readStore(data, ['0562809467078eab', 'ef86c83c0a05a6d6']);
  assert.deepEqual(sortById(encodeZipkinJson(k!)), sortById(kafka));
  assert.equal(a!.length, ascend.length);
});

function sortById<T extends { id: string; kind?: string }>(spans: T[]): string[] {
  return spans.map((s) => JSON.stringify(s, Object.keys(s).sort())).sort();
}

void test('format detection: an unknown extension is sniffed; a named file that is no trace format is skipped, not fatal', async () => {
  const d = scratch();
  const sniffed = join(d, 'export.txt');
  writeFileSync(sniffed, JSON.stringify(readZipkinFixture('skew.json')));
  const csv = join(d, 'callgraph.data');
  writeFileSync(csv, 'traceid,timestamp,rpcid,um,dm\nabc,1,0,A,B\n');
  const notes = join(d, 'notes.txt');
  writeFileSync(notes, 'hello');
  const data = join(d, 'data');
  const c = io();
  assert.equal(await importCommand([sniffed, csv, notes], { data }, c), 0);
  assert.match(c.out.text, /^imported 5 spans from 2 files .*, 0 bad lines, 1 file skipped\n$/);
  assert.match(c.err.text, /notes\.txt: skipped: not OTLP JSON, Zipkin JSON, JSON lines or call-graph CSV/);
  // --format overrides detection: the Zipkin array read as CSV has no call-graph header.
  const forced = io();
  assert.equal(await importCommand([sniffed], { data, format: 'csv' }, forced), 0);
  assert.match(forced.out.text, /imported 0 spans .*1 bad line/);
});

void test('a document that is not valid JSON, or not a span payload, is one bad record; spans rejected by the decoder are counted', async () => {
  const d = scratch();
  const broken = join(d, 'broken.json');
  writeFileSync(broken, '[{"traceId": ');
  const partial = join(d, 'partial.json');
  const spans = readZipkinFixture('skew.json');
  writeFileSync(partial, JSON.stringify([...spans, { traceId: 'nothex', id: '1', name: 'x' }]));
  const c = io();
  assert.equal(await importCommand([broken, partial], { data: join(d, 'data') }, c), 0);
  assert.match(c.out.text, /^imported 4 spans from 2 files .*, 2 bad lines\n$/);
  assert.match(c.err.text, /broken\.json: not valid JSON/);
  assert.match(c.err.text, /partial\.json: span 4/);
});

void test('progress: a bar on a terminal stderr, nothing while working otherwise; the summary always on stdout', async () => {
  const d = scratch();
  const file = join(d, 'skew.json');
  writeFileSync(file, JSON.stringify(readZipkinFixture('skew.json')));
  const tty = io(true);
  assert.equal(await importCommand([file], { data: join(d, 'a') }, tty), 0);
  assert.match(tty.err.text, /importing \[/);
  assert.match(tty.err.text, /\d+ spans/);
  assert.match(tty.out.text, /^imported 4 spans/);
  const plain = io(false);
  assert.equal(await importCommand([file], { data: join(d, 'b') }, plain), 0);
  assert.equal(plain.err.text, '');
  assert.match(plain.out.text, /^imported 4 spans from 1 file/);
});

void test('command errors: a missing path and a bad flag fail with a message and an exit code; registered with commander', async () => {
  const d = scratch();
  const missing = io();
  assert.equal(await importCommand([join(d, 'nope.json')], { data: join(d, 'data') }, missing), 1);
  assert.match(missing.err.text, /^linktrace import: ENOENT/);
  for (const [flags, msg] of [
    [{ format: 'xml' }, /--format must be one of json, jsonl, csv/],
    [{ baseTime: 'tomorrow' }, /--base-time "tomorrow" is not a time/],
    [{ batch: '0' }, /--batch must be an integer/],
    [{ server: 'ftp://x' }, /--server must be an http/],
  ] as const) {
    const c = io();
    assert.equal(await importCommand([d], { data: join(d, 'data'), ...flags }, c), 2);
    assert.match(c.err.text, msg);
  }
  // Through commander, as `linktrace import` runs it.
  const file = join(d, 'skew.json');
  writeFileSync(file, JSON.stringify(readZipkinFixture('skew.json')));
  const c = io();
  const program = new Command('linktrace').exitOverride();
  register(program, c);
  await program.parseAsync(['node', 'linktrace', 'import', file, '--data', join(d, 'cmd')]);
  assert.equal(c.code, 0);
  assert.match(c.out.text, /^imported 4 spans/);
  const conflict = new Command('linktrace').exitOverride().configureOutput({ writeErr: () => {} });
  register(conflict, io());
  await assert.rejects(conflict.parseAsync(['node', 'linktrace', 'import', file, '--data', 'x', '--server', 'http://127.0.0.1:1']), /cannot be used with/);
});

interface Received {
  auth: string | undefined;
  spans: Span[];
}

async function peer(answer: (body: string, n: number) => [number, string]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const [status, text] = answer(body, n++);
      if (status < 300) received.push({ auth: req.headers.authorization, spans: decodeOtlpJson(JSON.parse(body)).spans });
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

void test('--server: spans go as OTLP JSON to /v1/traces with the token, in batches; partial success counted', async () => {
  const d = scratch();
  const file = join(d, 'kafka.json');
  const kafka = readZipkinFixture('messaging-kafka.json');
  writeFileSync(file, JSON.stringify(kafka));
  const p = await peer((_body, n) => (n === 0 ? [200, '{"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 spans too old"}}'] : [200, '{}']));
  try {
    const c = io();
    assert.equal(await importCommand([file], { server: p.url, token: 's3cret', batch: '10' }, c), 0);
    assert.equal(p.received.length, 3, '28 spans in batches of 10');
    assert.ok(p.received.every((r) => r.auth === 'Bearer s3cret'));
    const sent = p.received.flatMap((r) => r.spans);
    const want = decodeZipkinJson(kafka).spans;
    assert.deepEqual(sortById(encodeZipkinJson(sent)), sortById(encodeZipkinJson(want)));
    assert.match(c.out.text, new RegExp(`^imported 26 spans from 1 file .* into ${p.url.replace(/\./g, '\\.')} .*, 0 bad lines, 2 spans rejected\\n$`));
    assert.match(c.err.text, /rejected by .*: 2 spans too old/);
  } finally {
    await p.close();
  }
});

void test('--server: a batch too large is split, a 400 is counted as rejected, a failing server stops the import after retries', async () => {
  const d = scratch();
  const file = join(d, 'kafka.json');
  writeFileSync(file, JSON.stringify(readZipkinFixture('messaging-kafka.json')));
  const split = await peer((body) => (decodeOtlpJson(JSON.parse(body)).spans.length > 8 ? [413, '{"error":{"code":"payload_too_large","message":"too big"}}'] : [200, '']));
  try {
    const s = await runImport({ paths: [file], sink: new HttpSink({ server: split.url, retryDelaysMs: [] }) });
    assert.equal(s.spans, 28);
    assert.ok(split.received.every((r) => r.spans.length <= 8));
  } finally {
    await split.close();
  }
  const refuse = await peer(() => [400, '{"error":{"code":"invalid_spans","message":"every span was rejected"}}']);
  try {
    const s = await runImport({ paths: [file], sink: new HttpSink({ server: refuse.url, retryDelaysMs: [] }) });
    assert.equal(s.spans, 0);
    assert.equal(s.rejected, 28);
    assert.match(s.issues[0]!.message, /server answered 400: every span was rejected/);
  } finally {
    await refuse.close();
  }
  let calls = 0;
  const down = await peer(() => {
    calls++;
    return [503, '{"error":{"code":"unavailable","message":"shutting down"}}'];
  });
  try {
    await assert.rejects(runImport({ paths: [file], sink: new HttpSink({ server: down.url, retryDelaysMs: [1, 1] }) }), /failed \(503\): shutting down/);
    assert.equal(calls, 3, 'one attempt and two retries');
  } finally {
    await down.close();
  }
  const c = io();
  assert.equal(await importCommand([file], { server: down.url, token: 'x' }, c), 1, 'unreachable after close');
  assert.match(c.err.text, /^linktrace import: cannot reach/);
});
