import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { WebhookSink } from '../src/alerts/webhook-sink.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { ID, advanceAndCheck, duplicateOf, manualClock, newTraceId, postSpans, shopSync as shopSyncAt, without } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;
/** The server's clock: moved by the tests, so no result depends on how fast the machine runs. */
const clock = manualClock();
const shopSync = (trace: string): Span[] => shopSyncAt(trace, 1000, clock.now());

let dir: string;
let store: EmbeddedStore;
let app: FastifyInstance;
let hook: Server;
const received: Finding[][] = [];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

before(async () => {
  hook = createServer((req, res) => {
    void readBody(req).then((body) => {
      received.push((JSON.parse(body) as { findings: Finding[] }).findings);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const port = (hook.address() as AddressInfo).port;
  dir = tempDir('lt-checker-');
  store = await openEmbeddedStore({ dataDir: dir });
  app = await buildApp({
    store,
    dataDir: dir,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 },
    clock: clock.now,
    // A burst large enough for every alert of this file: the rate limit is tested in alerts-sinks.
    alerts: { sinks: [new WebhookSink(`http://127.0.0.1:${port}/hook`)], options: { burst: 100 } },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.ready();
});

after(async () => {
  await app?.close();
  await store?.close();
  hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function findings(traceId: string): Promise<Finding[]> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${traceId}` });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { findings: Finding[] }).findings;
}

const checkedTraces = (): number => app.linktrace.checker!.status().checkedTraces;

/** Moves the server clock by `ms` and runs the checker round that is then due. */
const advance = (ms: number): Promise<void> => advanceAndCheck(app, clock, ms);

async function metric(name: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

void test('a healthy shop-sync trace is checked after the check delay and yields no finding', async () => {
  const since = checkedTraces();
  const trace = newTraceId();
  await postSpans(app, shopSync(trace));
  await advance(CHECK_DELAY_MS - 1);
  assert.equal(checkedTraces(), since, 'not due before the check delay');
  await advance(1);
  assert.equal(checkedTraces(), since + 1);
  assert.deepEqual(await findings(trace), []);
});

void test('spans of one trace sent in several batches are checked as one trace', async () => {
  const since = checkedTraces();
  const trace = newTraceId();
  const spans = shopSync(trace);
  await postSpans(app, spans.slice(0, 4));
  await advance(CHECK_DELAY_MS / 4);
  await postSpans(app, spans.slice(4));
  // The second batch restarted the quiet time: not due at the first batch's check delay.
  await advance((CHECK_DELAY_MS * 3) / 4);
  assert.equal(checkedTraces(), since);
  await advance(CHECK_DELAY_MS / 4);
  assert.equal(checkedTraces(), since + 1);
  assert.deepEqual(await findings(trace), []);
});

void test('a receive with no write: missing-write names the service and the entity, at the check delay', async () => {
  const trace = newTraceId();
  await postSpans(app, without(shopSync(trace), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite));
  await advance(CHECK_DELAY_MS);
  const [f, ...rest] = await findings(trace);
  assert.deepEqual(rest, []);
  assert.equal(f!.rule, 'missing-write');
  assert.equal(f!.service, 'sync-worker');
  assert.equal(f!.spanId, ID.workerReceive);
  assert.deepEqual(f!.entity, { type: 'shop', key: '42', version: '7' });
  assert.match(f!.message, /sync-worker/);
});

void test('an enqueue never consumed: not-consumed at the producer, with its target', async () => {
  const trace = newTraceId();
  const spans = shopSync(trace).filter((s) => s.service === 'merchant-api');
  await postSpans(app, spans);
  await advance(CHECK_DELAY_MS);
  const [f, ...rest] = await findings(trace);
  assert.deepEqual(rest, []);
  assert.equal(f!.rule, 'not-consumed');
  assert.equal(f!.service, 'merchant-api');
  assert.equal(f!.spanId, ID.apiEnqueue);
  assert.equal(f!.target, 'mq:shop-changed');
});

void test('a consumer that arrives late clears its not-consumed finding when the trace is checked again', async () => {
  const trace = newTraceId();
  const spans = shopSync(trace);
  await postSpans(app, spans.filter((s) => s.service === 'merchant-api'));
  await advance(CHECK_DELAY_MS);
  const [f] = await findings(trace);
  assert.equal(f?.rule, 'not-consumed');
  await postSpans(app, spans.filter((s) => s.service !== 'merchant-api'));
  await advance(CHECK_DELAY_MS);
  assert.deepEqual(await findings(trace), [], 'the stale finding removed');
});

void test('a duplicate write: duplicate-write on the second write; metrics count it by rule', async () => {
  const before = await metric('linktrace_findings_total{rule="duplicate-write"}');
  const trace = newTraceId();
  const spans = shopSync(trace);
  spans.push(duplicateOf(spans, ID.workerMysql, 'b0000000000000ff'));
  await postSpans(app, spans);
  await advance(CHECK_DELAY_MS);
  const [f, ...rest] = await findings(trace);
  assert.deepEqual(rest, []);
  assert.equal(f!.rule, 'duplicate-write');
  assert.equal(f!.service, 'sync-worker');
  assert.equal(f!.target, 'mysql:user_shop');
  assert.equal(await metric('linktrace_findings_total{rule="duplicate-write"}'), before + 1);
});

void test('late spans re-open a checked trace: new findings are added, old ones neither repeated nor counted twice', async () => {
  const trace = newTraceId();
  const spans = without(shopSync(trace), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
  await postSpans(app, spans);
  await advance(CHECK_DELAY_MS);
  assert.equal((await findings(trace)).length, 1);
  const missing = await metric('linktrace_findings_total{rule="missing-write"}');
  const since = checkedTraces();
  // A late stage span that failed elsewhere in the trace: the trace is checked again and gains a stage-error.
  const root = spans[0]!;
  const late = {
    ...root,
    spanId: 'a0000000000000ee',
    parentSpanId: root.spanId,
    rpcid: '0.3',
    name: 'validate shop',
    kind: 'internal' as const,
    attributes: { ...root.attributes, 'linktrace.stage': 'process' },
    status: { code: 'error' as const, message: 'validation failed' },
  };
  await postSpans(app, [late]);
  await advance(CHECK_DELAY_MS);
  assert.equal(checkedTraces(), since + 1);
  const after = await findings(trace);
  assert.deepEqual(after.map((f) => f.rule).sort(), ['missing-write', 'stage-error']);
  assert.equal(after.filter((f) => f.rule === 'missing-write').length, 1);
  assert.equal(await metric('linktrace_findings_total{rule="missing-write"}'), missing);
});

void test('the webhook receives each broken hop once: the same rule, service, entity and target is deduplicated', async () => {
  const [a, b] = [newTraceId(), newTraceId()];
  const dedupedBefore = await metric('linktrace_alerts_deduplicated_total');
  // Two traces broken at the same hop: the same shop (77) never consumed from the same queue.
  const producerOnly = (trace: string): Span[] =>
    shopSync(trace)
      .filter((s) => s.service === 'merchant-api')
      .map((s) => ({ ...s, attributes: { ...s.attributes, 'linktrace.entity.key': '77' } }));
  await postSpans(app, producerOnly(a));
  await advance(CHECK_DELAY_MS);
  assert.equal((await findings(a)).length, 1);
  await postSpans(app, producerOnly(b));
  await advance(CHECK_DELAY_MS);
  assert.equal((await findings(b)).length, 1);
  await app.linktrace.alerts!.idle();
  assert.equal(await metric('linktrace_alerts_deduplicated_total'), dedupedBefore + 1, 'the second finding deduplicated');
  const of77 = received.flat().filter((f) => f.entity?.key === '77');
  assert.equal(of77.length, 1);
  const f = of77[0]!;
  assert.equal(f.rule, 'not-consumed');
  assert.equal(f.traceId, a);
  assert.equal(f.service, 'merchant-api');
  assert.equal(f.target, 'mq:shop-changed');
  // Across the whole run: every hop alerted once only.
  const keys = received.flat().map((x) => `${x.rule} ${x.service} ${x.entity?.key ?? ''} ${x.target ?? ''}`);
  assert.equal(new Set(keys).size, keys.length, keys.join('\n'));
});

void test('/healthz and /metrics report the checker', async () => {
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200, res.body);
  const body = JSON.parse(res.body) as { checker: { openTraces: number; droppedTraces: number; checkedTraces: number }; alerts: { sink: string }[] };
  assert.equal(body.checker.droppedTraces, 0);
  assert.ok(body.checker.checkedTraces >= 7);
  assert.equal(body.alerts.length, 1);
  assert.match(body.alerts[0]!.sink, /^webhook:127\.0\.0\.1:\d+$/);
  assert.ok((await metric('linktrace_checker_traces_checked_total')) >= 7);
  assert.equal(await metric('linktrace_findings_total{rule="slow-chain"}'), 0);
});
