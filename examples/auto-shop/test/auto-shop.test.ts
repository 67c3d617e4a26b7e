/**
 * End to end, as a user runs it: a real `linktrace serve`, the three services as separate processes
 * started with `node --import @linktrace/sdk/register` (their code has no tracing in it), real
 * PostgreSQL, Redis, RabbitMQ and MariaDB. One order is sent; its trace is read back from the
 * server's query API and checked hop by hop. Fails (never skips) when a service is unreachable.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import mysql from 'mysql2/promise';
import { dropRun } from '../src/cleanup.js';
import { DEFAULTS, namesOf } from '../src/config.js';
import { startLinktraceServe, startService, type Launched } from '../src/launch.js';
import { QueryClient, waitFor } from './query-client.js';
import { assertTree, describeTrace, ORDER_TRACE } from './trace-tree.js';

const prefix = `auto_shop_${process.pid}_${randomBytes(3).toString('hex')}`;
const names = namesOf(prefix);
// Spans leave each service within 100 ms; the checker looks at a trace 1 s after its last span.
const SERVICE_ENV = { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_TRACES_SAMPLER: 'always_on' };

let dataDir: string;
let server: Launched | undefined;
const services = new Map<string, Launched>();
let query: QueryClient;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'auto-shop-'));
  server = await startLinktraceServe({ dataDir, checkDelay: '1s' });
  query = new QueryClient(server.url!);
  const common = { endpoint: server.url!, prefix, env: SERVICE_ENV };
  const notify = await startService('notify-service', common);
  services.set('notify-service', notify);
  const [worker, api] = await Promise.all([startService('order-worker', { ...common, notifyUrl: notify.url! }), startService('order-api', common)]);
  services.set('order-worker', worker);
  services.set('order-api', api);
});

after(async () => {
  const outputs: string[] = [];
  for (const [name, service] of [...services].reverse()) {
    const how = await service.stop(5000);
    if (how !== 0) outputs.push(`${name} ended with ${how}:\n${service.output()}`);
  }
  await server?.stop(10_000);
  await rm(dataDir, { recursive: true, force: true });
  await dropRun(prefix);
  // A service that crashed on the way down is a failure of the example, not noise.
  assert.deepEqual(outputs, [], 'every service stops cleanly on SIGTERM');
});

function url(service: string, path: string): string {
  return services.get(service)!.url! + path;
}

async function postOrder(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url('order-api', '/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The one trace rooted in an order-api `POST` that started at or after `sinceUs`. */
async function newTraceOf(sinceUs: number, what: string): Promise<string> {
  return waitFor(
    what,
    async () => {
      const traces = (await query.tracesSince('order-api', sinceUs)).filter((t) => t.root?.service === 'order-api' && t.root.name.startsWith('POST') && t.startUs >= sinceUs);
      assert.ok(traces.length <= 1, `one new trace, got ${JSON.stringify(traces)}`);
      return traces[0]?.traceId;
    },
    10_000,
  );
}

let healthyTrace: string | undefined;
let checkedBefore = 0;

it('an order goes through every hop and its trace comes back as one complete tree', async () => {
  checkedBefore = await query.metric('linktrace_checker_traces_checked_total');
  const sinceUs = Date.now() * 1000;
  const reply = await postOrder({ item: 'teapot', quantity: 2 });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  const orderId = reply.body['id'];
  assert.equal(typeof orderId, 'number');

  // The chain really ran: notify-service heard of the order, MariaDB has the shipment.
  await waitFor(
    'notify-service to be told',
    async () => {
      const res = await fetch(url('notify-service', '/notifications'));
      const { notifications } = (await res.json()) as { notifications: { orderId: number }[] };
      return notifications.some((n) => n.orderId === orderId) ? true : undefined;
    },
    10_000,
  );
  const my = await mysql.createConnection({ uri: DEFAULTS.mysql });
  const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT item, quantity FROM ${names.shipmentsTable} WHERE order_id = ?`, [orderId]);
  await my.end();
  assert.deepEqual(rows.map((r) => [r['item'], r['quantity']]), [['teapot', 2]]);
  const cached = await fetch(url('order-api', `/orders/${String(orderId)}`));
  assert.equal(cached.status, 200);

  const traceId = await newTraceOf(sinceUs, 'the order trace');
  // Every expected span has arrived and ended; then a moment more, so a stray late span would show.
  await waitFor(
    'every span of the order trace',
    async () => {
      const view = await query.trace(traceId);
      const complete = ORDER_TRACE.every((role) => view.spans.some((s) => s.service === role.service && s.kind === role.kind && role.match(s)));
      return complete && view.spans.every((s) => s.durationUs !== undefined) ? view : undefined;
    },
    15_000,
  ).catch(async (error: unknown) => {
    const view = await query.trace(traceId).catch(() => undefined);
    throw new Error(`${String(error)}\n${view === undefined ? 'no trace' : describeTrace(view)}`);
  });
  await new Promise((r) => setTimeout(r, 500));
  const view = await query.trace(traceId);
  const spans = assertTree(view, ORDER_TRACE);
  assert.equal(view.spans.length, ORDER_TRACE.length);
  assert.deepEqual([...new Set(view.spans.map((s) => s.service))].sort(), ['notify-service', 'order-api', 'order-worker']);
  assert.equal(spans.get('order-api POST /orders')!.attributes['http.response.status_code'], 201);
  assert.equal(spans.get('notify-service POST /notify')!.attributes['http.response.status_code'], 204);
  for (const span of view.spans) assert.notEqual(span.status?.code, 'error', `no span failed: ${span.name}`);
  // What the chain checker relies on: the publish is an enqueue to this run's queue, delivery and
  // ack are its dequeue and consume.
  const publish = spans.get('amqp publish')!;
  assert.equal(publish.attributes['linktrace.stage'], 'enqueue');
  assert.equal(publish.attributes['linktrace.target'], `mq:${names.queue}`);
  assert.match(String(spans.get('pg insert')!.attributes['db.query.text']), new RegExp(`^INSERT INTO ${names.ordersTable} `));
  assert.match(String(spans.get('mysql insert')!.attributes['db.query.text']), new RegExp(`^INSERT INTO ${names.shipmentsTable} `));
  healthyTrace = traceId;
});

it('the healthy trace gives no chain-check finding once the checker has looked at it', async () => {
  assert.ok(healthyTrace, 'the previous test found the trace');
  await waitFor(
    'the checker to evaluate the trace',
    async () => ((await query.metric('linktrace_checker_traces_checked_total')) > checkedBefore && (await query.metric('linktrace_checker_open_traces')) === 0 ? true : undefined),
    10_000,
  );
  assert.deepEqual(await query.findings(healthyTrace), []);
});

it('a rejected order is one server span (400) and touches no database, cache or queue', async () => {
  const sinceUs = Date.now() * 1000;
  const reply = await postOrder({ item: '', quantity: 2 });
  assert.equal(reply.status, 400);
  assert.match(String(reply.body['error']), /item/);
  const traceId = await newTraceOf(sinceUs, 'the rejected order trace');
  await new Promise((r) => setTimeout(r, 500));
  const view = await query.trace(traceId);
  assert.equal(view.spans.length, 1, describeTrace(view));
  const [span] = view.spans;
  assert.equal(span!.kind, 'server');
  assert.equal(span!.attributes['http.response.status_code'], 400);
  assert.equal(span!.rpcid, '0');
});

it('with the worker stopped, the order is published but never consumed, and the checker says so', async () => {
  const worker = services.get('order-worker')!;
  services.delete('order-worker');
  assert.equal(await worker.stop(5000), 0, worker.output());
  const sinceUs = Date.now() * 1000;
  const reply = await postOrder({ item: 'kettle', quantity: 1 });
  assert.equal(reply.status, 201);
  const traceId = await newTraceOf(sinceUs, 'the unconsumed order trace');
  const findings = await waitFor('a not-consumed finding', async () => {
    const found = await query.findings(traceId);
    return found.length > 0 ? found : undefined;
  }, 10_000);
  assert.deepEqual(
    findings.map((f) => [f.rule, f.service]),
    [['not-consumed', 'order-api']],
    JSON.stringify(findings),
  );
});

it('a service whose database is unreachable refuses to start, naming it', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  await assert.rejects(
    startService('order-api', { endpoint: server!.url!, prefix, env: { ...SERVICE_ENV, POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/test` } }),
    /exited \(1\) before it was ready[\s\S]*PostgreSQL is not usable/,
  );
});
