import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Finding } from '@linktrace/storage';
import { AlertDedupe } from '../src/alerts/alert-dedupe.js';
import { AlertDispatcher } from '../src/alerts/alert-dispatcher.js';
import type { AlertSink } from '../src/alerts/alert-sink.js';
import { LogSink, alertLine } from '../src/alerts/log-sink.js';
import { parseSentryDsn } from '../src/alerts/sentry-dsn.js';
import { SentrySink } from '../src/alerts/sentry-sink.js';
import { SinkQueue } from '../src/alerts/sink-queue.js';
import { WebhookSink } from '../src/alerts/webhook-sink.js';
import { ConfigError } from '../src/config.js';

interface Hit {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local peer: every request is recorded, and answered by the next scripted reply (default 200). */
let server: Server;
let base: string;
const hits: Hit[] = [];
let replies: ((res: ServerResponse) => void)[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', headers: req.headers, body });
      const reply = replies.shift();
      if (reply !== undefined) reply(res);
      else res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function reset(...scripted: ((res: ServerResponse) => void)[]): void {
  hits.length = 0;
  replies = scripted;
}

const FINDING: Finding = {
  traceId: '0123456789abcdef0123456789abcdef',
  rule: 'missing-write',
  service: 'sync-worker',
  spanId: 'b000000000000001',
  message: 'sync-worker receive of shop 42 v7 has no write',
  timeUs: 1_700_000_000_000_000,
  entity: { type: 'shop', key: '42', version: '7' },
  target: 'mysql:user_shop',
};

const status = (code: number, headers: Record<string, string> = {}) => (res: ServerResponse) => res.writeHead(code, headers).end();

void test('webhook: one JSON POST with the findings', async () => {
  reset();
  await new WebhookSink(`${base}/hook?x=1`).send([FINDING]);
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.url, '/hook?x=1');
  assert.equal(hits[0]!.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(hits[0]!.body), { source: 'linktrace', findings: [FINDING] });
});

void test('webhook: 503 and 429 are retried with backoff (Retry-After honoured) until accepted', async () => {
  // The waits are recorded, not taken: what is checked is the backoff asked for, not the wall clock.
  reset(status(503), status(429, { 'retry-after': '0' }), status(503, { 'retry-after': '7' }));
  const waits: number[] = [];
  const sleep = (ms: number): Promise<void> => (waits.push(ms), Promise.resolve());
  await new WebhookSink(`${base}/hook`, { backoffMs: 50, retries: 3, maxBackoffMs: 5000, sleep }).send([FINDING]);
  assert.equal(hits.length, 4);
  // Doubling from 50 ms; a Retry-After of 0 s does not shorten the backoff; 7 s is honoured up to the largest backoff.
  assert.deepEqual(waits, [50, 100, 5000]);
  assert.equal(hits[3]!.body, hits[0]!.body);
});

void test('webhook: a 400 is final (no retry); retries run out with the last status in the error', async () => {
  reset(status(400));
  await assert.rejects(new WebhookSink(`${base}/hook`, { backoffMs: 10 }).send([FINDING]), /answered 400/);
  assert.equal(hits.length, 1);
  reset(status(500), status(500), status(500));
  await assert.rejects(new WebhookSink(`${base}/hook`, { backoffMs: 10, retries: 2 }).send([FINDING]), (e: Error & { status?: number }) => {
    assert.equal(e.status, 500);
    assert.match(e.message, /after 3 attempts/);
    return true;
  });
  assert.equal(hits.length, 3);
});

void test('webhook: a peer that never answers times out; a refused connection fails; a bad URL is a ConfigError', async () => {
  reset(() => {
    // never answers
  });
  // The message says the 150 ms timeout ended the wait (how long that took is the machine's business).
  await assert.rejects(new WebhookSink(`${base}/hook`, { timeoutMs: 150, retries: 0 }).send([FINDING]), /no answer within 150 ms/);
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await assert.rejects(new WebhookSink(`http://127.0.0.1:${port}/`, { retries: 1, backoffMs: 10 }).send([FINDING]), /after 2 attempts/);
  assert.throws(() => new WebhookSink('not a url'), ConfigError);
  assert.throws(() => new WebhookSink('ftp://example.com/x'), /http or https/);
});

void test('sentry DSN: envelope endpoint from the DSN (with a path prefix); bad DSNs are ConfigErrors', () => {
  assert.deepEqual(parseSentryDsn('https://abc123@o1.ingest.sentry.io/4506'), {
    dsn: 'https://abc123@o1.ingest.sentry.io/4506',
    publicKey: 'abc123',
    projectId: '4506',
    envelopeUrl: 'https://o1.ingest.sentry.io/api/4506/envelope/',
  });
  assert.equal(parseSentryDsn('http://k@localhost:9000/sentry/7').envelopeUrl, 'http://localhost:9000/sentry/api/7/envelope/');
  for (const bad of ['', 'nope', 'https://sentry.io/42', 'https://k@sentry.io/', 'https://k@sentry.io/abc', 'ftp://k@sentry.io/1']) {
    assert.throws(() => parseSentryDsn(bad), ConfigError, bad);
  }
});

void test('sentry: each finding is one event envelope to the project, authenticated with the public key', async () => {
  reset();
  const other: Finding = { ...FINDING, rule: 'not-consumed', spanId: 'a000000000000003', service: 'merchant-api', target: 'mq:shop-changed' };
  delete other.entity;
  await new SentrySink(`http://pubkey@127.0.0.1:${base.split(':')[2]}/9`, { environment: 'test' }).send([FINDING, other]);
  assert.equal(hits.length, 2);
  for (const hit of hits) {
    assert.equal(hit.url, '/api/9/envelope/');
    assert.equal(hit.headers['content-type'], 'application/x-sentry-envelope');
    assert.match(String(hit.headers['x-sentry-auth']), /^Sentry sentry_version=7, sentry_key=pubkey, sentry_client=linktrace\//);
  }
  const [header, item, payload, tail] = hits[0]!.body.split('\n');
  assert.equal(tail, '');
  const h = JSON.parse(header!) as { event_id: string; dsn: string };
  const it = JSON.parse(item!) as { type: string; length: number };
  const event = JSON.parse(payload!) as Record<string, unknown> & { tags: Record<string, string>; message: { formatted: string }; contexts: { trace: { trace_id: string; span_id: string } } };
  assert.match(h.event_id, /^[0-9a-f]{32}$/);
  assert.equal(event.event_id, h.event_id);
  assert.equal(it.type, 'event');
  assert.equal(it.length, Buffer.byteLength(payload!));
  assert.equal(event.message.formatted, FINDING.message);
  assert.equal(event.level, 'error');
  assert.equal(event.environment, 'test');
  assert.equal(event.timestamp, FINDING.timeUs / 1e6);
  assert.deepEqual(event.tags, { rule: 'missing-write', service: 'sync-worker', trace_id: FINDING.traceId, target: 'mysql:user_shop', entity_type: 'shop' });
  assert.deepEqual(event.fingerprint, ['linktrace', 'missing-write', 'sync-worker', 'shop', 'mysql:user_shop']);
  assert.deepEqual(event.contexts.trace, { trace_id: FINDING.traceId, span_id: FINDING.spanId, op: 'missing-write' });
  const second = JSON.parse(hits[1]!.body.split('\n')[2]!) as { tags: Record<string, string> };
  assert.equal(second.tags.entity_type, undefined);
  assert.notEqual(JSON.parse(hits[1]!.body.split('\n')[0]!).event_id, h.event_id);
});

void test('sentry: a rejected envelope (403) rejects the send', async () => {
  reset(status(403));
  await assert.rejects(new SentrySink(`http://k@127.0.0.1:${base.split(':')[2]}/1`).send([FINDING]), /answered 403/);
});

void test('log: one line per finding, quoted values stay on one line', async () => {
  const lines: string[] = [];
  await new LogSink((l) => lines.push(l)).send([FINDING, { ...FINDING, message: 'two\nlines "quoted"', entity: undefined, target: undefined }]);
  assert.equal(lines.length, 2);
  assert.equal(
    lines[0],
    'linktrace alert rule=missing-write service="sync-worker" traceId=0123456789abcdef0123456789abcdef spanId=b000000000000001 entity="shop:42@7" target="mysql:user_shop" message="sync-worker receive of shop 42 v7 has no write"',
  );
  assert.ok(!lines[1]!.includes('\n'));
  assert.ok(lines[1]!.endsWith('message="two\\nlines \\"quoted\\""'));
  assert.equal(alertLine({ ...FINDING, entity: { type: 'shop', key: '1' } }).includes('entity="shop:1"'), true);
});

void test('dedupe: same rule, service, entity (any version) and target within the window; again after it', () => {
  const d = new AlertDedupe(1000, 3);
  assert.equal(d.admit(FINDING, 0), true);
  assert.equal(d.admit({ ...FINDING, traceId: 'ffffffffffffffffffffffffffffffff', entity: { type: 'shop', key: '42', version: '8' } }, 10), false);
  assert.equal(d.admit({ ...FINDING, entity: { type: 'shop', key: '43' } }, 20), true);
  assert.equal(d.admit({ ...FINDING, target: 'mysql:other' }, 30), true);
  assert.equal(d.admit({ ...FINDING, rule: 'stage-error' }, 40), true);
  // Bounded at 3 keys: the oldest (FINDING) was forgotten.
  assert.equal(d.admit(FINDING, 50), true);
  assert.equal(d.admit(FINDING, 60), false);
  assert.equal(d.admit(FINDING, 1051), true, 'window over');
});

/** A sink that records batches, optionally failing or slow. */
class Recorder implements AlertSink {
  readonly name = 'recorder';
  batches: number[] = [];
  times: number[] = [];
  constructor(private readonly behaviour: (n: number) => Promise<void> = () => Promise.resolve()) {}
  async send(findings: readonly Finding[]): Promise<void> {
    this.times.push(Date.now());
    await this.behaviour(this.times.length - 1);
    this.batches.push(findings.length);
  }
}

function many(n: number, from = 0): Finding[] {
  return Array.from({ length: n }, (_, i) => ({ ...FINDING, spanId: (from + i).toString(16).padStart(16, '0'), entity: { type: 'shop', key: String(from + i) } }));
}

void test('sink queue: batches, a bounded queue (overflow dropped and counted), a rate limit on sends', async () => {
  const dropped: string[] = [];
  const observer = { sent: () => {}, dropped: (_s: string, reason: string, n: number) => dropped.push(`${reason}:${n}`), deduplicated: () => {} };
  const sink = new Recorder(() => new Promise((r) => setTimeout(r, 5)));
  const q = new SinkQueue(sink, { maxQueue: 25, maxBatch: 10, sendsPerMinute: 600, burst: 1 }, observer);
  q.offer(many(30));
  assert.deepEqual(dropped, ['queue_full:5']);
  await q.close(3000);
  assert.deepEqual(sink.batches, [10, 10, 5]);
  assert.equal(q.sent, 25);
  assert.equal(q.dropped, 5);
  // 600 sends per minute, burst 1: 100 ms apart.
  assert.ok(sink.times[2]! - sink.times[0]! >= 190, `sends at ${sink.times.map((t) => t - sink.times[0]!).join(', ')}`);
});

void test('sink queue: a failing sink drops its batch (counted) and goes on; closing drops what is left', async () => {
  const dropped: string[] = [];
  const observer = { sent: () => {}, dropped: (_s: string, reason: string, n: number) => dropped.push(`${reason}:${n}`), deduplicated: () => {} };
  const warnings: string[] = [];
  const sink = new Recorder((i) => (i === 0 ? Promise.reject(new Error('peer down')) : Promise.resolve()));
  const q = new SinkQueue(sink, { maxBatch: 2, sendsPerMinute: 6000, burst: 10 }, observer, (w) => warnings.push(w));
  q.offer(many(4));
  await q.close(2000);
  assert.deepEqual(dropped, ['failed:2']);
  assert.equal(q.sent, 2);
  assert.equal(q.lastError, undefined);
  assert.match(warnings[0]!, /recorder: 2 findings not delivered: peer down/);

  const slow = new SinkQueue(new Recorder(() => new Promise((r) => setTimeout(r, 50))), { maxBatch: 1, sendsPerMinute: 60, burst: 1 }, observer);
  dropped.length = 0;
  slow.offer(many(3));
  await slow.close(120);
  assert.deepEqual(dropped, ['shutdown:2']);
});

void test('dispatcher: deduplicates before fanning out to every sink', async () => {
  const a = new Recorder();
  const b = new Recorder();
  let deduplicated = 0;
  const d = new AlertDispatcher([a, b], { dedupeWindowMs: 60_000 }, { sent: () => {}, dropped: () => {}, deduplicated: (n) => (deduplicated += n) });
  d.offer([FINDING, { ...FINDING, traceId: 'ffffffffffffffffffffffffffffffff' }, ...many(2, 100)]);
  d.offer([FINDING]);
  await d.close(2000);
  assert.equal(deduplicated, 2);
  assert.deepEqual(a.batches, [3]);
  assert.deepEqual(b.batches, [3]);
  assert.deepEqual(d.status().map((s) => [s.sink, s.sent, s.dropped, s.pending]), [
    ['recorder', 3, 0, 0],
    ['recorder', 3, 0, 0],
  ]);
});
