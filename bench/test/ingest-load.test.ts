import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeOtlpJson, decodeOtlpProto, type Span } from '@linktrace/model';
import { buildBatches, type BatchPlan, type RequestBody } from '../src/ingest-batches.js';
import { diskUsage } from '../src/ingest-disk.js';
import { retryAfterSeconds } from '../src/ingest-http.js';
import { sourceGroup } from '../src/ingest-profile.js';
import { rejectedSpans, Sender } from '../src/ingest-sender.js';
import { metricByLabel, metricValue } from '../src/ingest-server.js';
import { waitForChecker } from '../src/ingest-checker-wait.js';
import { cpuBetween, threadCpu } from '../src/ingest-threads.js';

const PLAN: BatchPlan = {
  spans: 20_000,
  seed: 3,
  startUs: 1_790_000_000_000_000,
  traceGapUs: 5000,
  minBatch: 1000,
  maxBatch: 5000,
  jsonShare: 0.3,
  gzipShare: 0.3,
  maxBodyBytes: 4 * 1024 * 1024,
  samples: 100,
};

function decode(b: RequestBody): Span[] {
  if (b.format === 'json') return decodeOtlpJson(JSON.parse(Buffer.from(b.body).toString('utf8'))).spans;
  const bytes = b.format === 'protobuf+gzip' ? gunzipSync(b.body) : b.body;
  const result = decodeOtlpProto(bytes);
  assert.equal(result.rejected, 0, result.errors.join('; '));
  return result.spans;
}

describe('ingest request bodies', () => {
  const set = buildBatches(PLAN);

  it('hold every generated span once, in whole traces, in the three encodings', () => {
    assert.ok(set.spans >= PLAN.spans && set.spans < PLAN.spans + 30);
    const seen = new Set<string>();
    const traceIds = new Set<string>();
    const formats = new Set<string>();
    let total = 0;
    for (const b of set.bodies) {
      const spans = decode(b);
      assert.equal(spans.length, b.spans);
      assert.ok(b.spans >= PLAN.minBatch / 2 || b === set.bodies.at(-1), `a body of ${b.spans} spans`);
      assert.ok(b.spans <= PLAN.maxBatch);
      formats.add(b.format);
      for (const s of spans) {
        assert.equal(Object.keys(s.attributes).length, 10);
        assert.ok(s.rpcid !== undefined && s.resource !== undefined && s.scope !== undefined);
        const key = `${s.traceId}/${s.spanId}`;
        assert.ok(!seen.has(key), key);
        seen.add(key);
        traceIds.add(s.traceId);
      }
      total += spans.length;
    }
    assert.equal(total, set.spans);
    assert.equal(traceIds.size, set.traces);
    assert.deepEqual([...formats].sort(), ['json', 'protobuf', 'protobuf+gzip']);
    assert.equal(set.bodyBytes, set.bodies.reduce((n, b) => n + b.body.byteLength, 0));
  });

  it('samples query inputs from what was sent', () => {
    const all = set.bodies.flatMap(decode);
    const ids = new Set(all.map((s) => s.traceId));
    const values = new Set(all.flatMap((s) => [s.attributes['linktrace.entity.key'], s.attributes['user.id']]));
    const ops = new Set(all.filter((s) => s.kind === 'server' || s.kind === 'consumer').map((s) => `${s.service} ${s.name}`));
    assert.equal(set.samples.traceIds.length, 100);
    for (const id of set.samples.traceIds) assert.ok(ids.has(id), id);
    for (const v of [...set.samples.entityKeys, ...set.samples.userIds]) assert.ok(values.has(v), v);
    assert.equal(set.samples.operations.length, ops.size);
    for (const [service, name] of set.samples.operations) assert.ok(ops.has(`${service} ${name}`));
  });

  it('splits a body larger than the request limit', () => {
    const small = buildBatches({ ...PLAN, spans: 6000, jsonShare: 1, gzipShare: 0, maxBodyBytes: 600_000 });
    let total = 0;
    for (const b of small.bodies) {
      assert.ok(b.body.byteLength <= 600_000, `${b.body.byteLength} bytes`);
      total += decode(b).length;
    }
    assert.equal(total, small.spans);
    assert.ok(small.bodies.some((b) => b.spans < PLAN.minBatch));
  });
});

describe('ingest sender', () => {
  let server: Server;
  let url: string;
  const received: { format: string; spans: number }[] = [];
  /** Answers by call number, then 200. */
  let script: ((req: IncomingMessage, body: Buffer) => [number, Record<string, string>, Buffer | string] | undefined)[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const scripted = script.shift()?.(req, body);
        if (scripted !== undefined) {
          res.writeHead(scripted[0], scripted[1]).end(scripted[2]);
          return;
        }
        const json = req.headers['content-type'] === 'application/json';
        const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        const spans = json ? decodeOtlpJson(JSON.parse(raw.toString('utf8'))).spans.length : decodeOtlpProto(raw).spans.length;
        received.push({ format: json ? 'json' : 'protobuf', spans });
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const bodies = buildBatches({ ...PLAN, spans: 8000 }).bodies;

  it('sends every body, retries 429 and 503 after Retry-After, and counts rejected spans', async () => {
    received.length = 0;
    // Partial success: 7 of the first body's spans rejected (protobuf answer).
    const partial = Buffer.from([0x0a, 0x02, 0x08, 0x07]);
    script = [
      () => [429, { 'retry-after': '0' }, '{"error":{"code":"overloaded","message":"later"}}'],
      () => [503, { 'retry-after': '0' }, '{"error":{"code":"unavailable","message":"later"}}'],
      () => [200, { 'content-type': 'application/x-protobuf' }, partial],
    ];
    const sender = new Sender(url, 3);
    await sender.run(bodies);
    const total = bodies.reduce((n, b) => n + b.spans, 0);
    assert.equal(sender.sentSpans, total);
    assert.equal(sender.throttled, 1);
    assert.equal(sender.unavailable, 1);
    assert.equal(sender.requests, bodies.length + 2);
    assert.equal(sender.rejectedSpans, 7);
    assert.equal(sender.acceptedSpans, total - 7);
    // The scripted answers consumed three requests' bodies; the server decoded all the others.
    assert.equal(received.length, bodies.length - 1);
    assert.ok(sender.lastAnswerAt >= sender.startedAt);
  });

  it('stops on any other refusal, with the answer in the error', async () => {
    script = [() => [400, { 'content-type': 'application/json' }, '{"error":{"code":"invalid_payload","message":"bad"}}']];
    await assert.rejects(new Sender(url, 1).run(bodies.slice(0, 2)), /answered 400: .*invalid_payload/);
  });

  it('gives up after its retry bound', async () => {
    script = Array.from({ length: 3 }, () => () => [429, { 'retry-after': '0' }, ''] as [number, Record<string, string>, string]);
    await assert.rejects(new Sender(url, 1, 2).run(bodies.slice(0, 1)), /answered 429/);
    script = [];
  });
});

describe('ingest helpers', () => {
  it('reads OTLP partial success from JSON and protobuf answers', () => {
    const answer = (body: string | Buffer) => ({ status: 200, headers: {}, body: Buffer.from(body) });
    assert.equal(rejectedSpans(answer(''), 'protobuf'), 0);
    assert.equal(rejectedSpans(answer('{}'), 'json'), 0);
    assert.equal(rejectedSpans(answer('{"partialSuccess":{"rejectedSpans":12,"errorMessage":"x"}}'), 'json'), 12);
    assert.equal(rejectedSpans(answer('{"partialSuccess":{"rejectedSpans":"300"}}'), 'json'), 300);
    // rejected_spans 300 = varint ac 02, then an error message.
    assert.equal(rejectedSpans(answer(Buffer.from([0x0a, 0x06, 0x08, 0xac, 0x02, 0x12, 0x01, 0x78])), 'protobuf+gzip'), 300);
    // Only a message: nothing counted.
    assert.equal(rejectedSpans(answer(Buffer.from([0x0a, 0x03, 0x12, 0x01, 0x78])), 'protobuf'), 0);
  });

  it('reads Retry-After seconds, with a fallback for missing or HTTP-date values', () => {
    assert.equal(retryAfterSeconds('3', 1), 3);
    assert.equal(retryAfterSeconds(['0'], 1), 0);
    assert.equal(retryAfterSeconds(undefined, 1), 1);
    assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:28:00 GMT', 2), 2);
    assert.equal(retryAfterSeconds('-1', 2), 2);
  });

  it('reads Prometheus counters, summing label sets and not matching longer names', () => {
    const text = [
      '# HELP linktrace_spans_stored_total Spans written to the store.',
      '# TYPE linktrace_spans_stored_total counter',
      'linktrace_spans_stored_total 123456',
      'linktrace_spans_stored_total_extra 5',
      'linktrace_spans_received_total{receiver="otlp"} 100',
      'linktrace_spans_received_total{receiver="zipkin"} 20',
    ].join('\n');
    assert.equal(metricValue(text, 'linktrace_spans_stored_total'), 123456);
    assert.equal(metricValue(text, 'linktrace_spans_received_total'), 120);
    assert.ok(Number.isNaN(metricValue(text, 'linktrace_wal_fsyncs_total')));
  });

  it('reads a counter by label', () => {
    const text = [
      'linktrace_findings_total{rule="stage-error"} 40',
      'linktrace_findings_total{rule="missing-write",service="a"} 3',
      'linktrace_findings_total{service="b",rule="missing-write"} 2',
      'linktrace_findings_total_other{rule="x"} 9',
      'linktrace_findings_total{service="c"} 7',
    ].join('\n');
    assert.deepEqual([...metricByLabel(text, 'linktrace_findings_total', 'rule')], [
      ['stage-error', 40],
      ['missing-write', 5],
    ]);
    assert.equal(metricByLabel(text, 'linktrace_nothing_total', 'rule').size, 0);
  });

  it('waits for the chain checker to go quiet (nothing open, no refused trace or re-check waiting), and tells a server without one', async () => {
    const page = (open: number, checked: number, rechecks = 0): string =>
      `linktrace_checker_open_traces ${open}\nlinktrace_checker_pending_rechecks ${rechecks}\nlinktrace_checker_traces_checked_total ${checked}\n` +
      `linktrace_checker_dropped_traces_total 2\nlinktrace_findings_total{rule="stage-error"} 4\n`;
    const script = [page(3, 10), page(1, 12), page(0, 12, 2), page(0, 12, 2), page(0, 12, 2), page(0, 12, 2), page(0, 12, 2), page(0, 12, 2), page(0, 12, 2), page(0, 12, 2), page(0, 14), page(0, 14)];
    let calls = 0;
    const drain = await waitForChecker(() => Promise.resolve(script[Math.min(calls++, script.length - 1)]!), 60_000);
    assert.equal(drain.present, true);
    assert.equal(drain.drained, true);
    assert.equal(drain.tracesChecked, 14);
    assert.deepEqual(drain.findings, [['stage-error', 4]]);
    assert.equal(drain.refusedTraces, 2);
    assert.equal(drain.droppedRechecks, 0);
    // Eight polls (250 ms apart) with refused traces waiting count as busy, however still the checked count.
    assert.ok(drain.seconds >= 2.4 && drain.seconds < 4, `${drain.seconds} s`);
    assert.ok(calls >= 12);
    const none = await waitForChecker(() => Promise.resolve('linktrace_spans_stored_total 5\n'), 60_000);
    assert.deepEqual(none, { present: false, drained: true, seconds: none.seconds, tracesChecked: 0, findings: [], refusedTraces: 0, droppedRechecks: 0 });
    const busy = await waitForChecker(() => Promise.resolve(page(5, 10)), 300);
    assert.equal(busy.drained, false);
  });

  it('groups profile frames by our package file, dependency or Node module', () => {
    assert.equal(sourceGroup('file:///work/main/packages/model/dist/src/codec/otlp-proto-decode.js', 'readSpan'), 'model/codec/otlp-proto-decode');
    assert.equal(sourceGroup('file:///work/main/node_modules/fastify/lib/route.js', 'x'), 'fastify');
    assert.equal(sourceGroup('file:///work/main/node_modules/@duckdb/node-api/lib/DuckDBAppender.js', 'x'), '@duckdb/node-api');
    assert.equal(sourceGroup('node:buffer', 'slice'), 'node:buffer');
    assert.equal(sourceGroup('', '(garbage collector)'), '(garbage collector)');
  });

  it('measures this process’s thread CPU and a directory’s bytes', () => {
    const before = threadCpu(process.pid);
    if (process.platform === 'linux') {
      assert.ok(before.some((t) => t.tid === process.pid));
      let x = 0;
      // Busy until the main thread has been charged at least one clock tick (bounded: 5 s).
      const until = performance.now() + 5000;
      let spent: [string, number][] = [];
      while (performance.now() < until && !spent.some(([name]) => name === 'main (JavaScript)')) {
        for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
        spent = cpuBetween(process.pid, before, threadCpu(process.pid));
      }
      assert.ok(spent.some(([name, seconds]) => name === 'main (JavaScript)' && seconds > 0), JSON.stringify(spent));
      assert.ok(x > 0);
    }
    assert.deepEqual(threadCpu(2 ** 30), []);
    const dir = mkdtempSync(join(tmpdir(), 'lt-disk-'));
    try {
      mkdirSync(join(dir, 'wal'));
      writeFileSync(join(dir, 'a.duckdb'), Buffer.alloc(3000));
      writeFileSync(join(dir, 'wal', '1.wal'), Buffer.alloc(1000));
      assert.deepEqual(diskUsage(dir), { total: 4000, files: [['a.duckdb', 3000], [join('wal', '1.wal'), 1000]] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
