import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import type { Span } from '@linktrace/model';
import { buildApp } from '../src/app.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { ConfigError } from '../src/config.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import type { FlowView } from '../src/checker/flow-registry.js';
import { advanceAndCheck, manualClock, newTraceId, postSpans, shopSync as shopSyncAt } from './checker-traces.js';
import { tempDir } from './query-test-support.js';
import { exitWithin, runCli } from './serve-helpers.js';

const FLOWS_YAML = `# the shop flow, end to end
flows:
  - name: shop-sync
    deadlineMs: 5000
    steps:
      - { service: merchant-api, stage: receive }
      - { service: sync-worker, stage: write, target: "mysql:user_shop" }
      - service: shop-query
        stage: write
        target: memory:shop_cache
`;

const CHECK_DELAY_MS = 200;
/** The server's clock, moved by the tests (across the restart too). */
const clock = manualClock();
const shopSync = (trace: string, agoMs = 1000): Span[] => shopSyncAt(trace, agoMs, clock.now());
const advance = (ms: number): Promise<void> => advanceAndCheck(app, clock, ms);

let dir: string;
let store: EmbeddedStore;
let app: FastifyInstance;

async function openApp(): Promise<void> {
  store = await openEmbeddedStore({ dataDir: dir });
  const flowsFile = join(dir, 'flows.yaml');
  app = await buildApp({
    store,
    dataDir: dir,
    // No token: declaring flows needs the flag (see checker-flows-limits.test.ts for the refusal).
    allowAnonymousWrites: true,
    clock: clock.now,
    checker: { ...parseServeFlags({ data: dir, checkDelay: '200ms', flows: flowsFile }).checker, maxWaitMs: 5000 },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.ready();
}

before(async () => {
  dir = tempDir('lt-checker-flows-');
  writeFileSync(join(dir, 'flows.yaml'), FLOWS_YAML);
  await openApp();
});

after(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function flows(): Promise<FlowView[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/flows' });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { flows: FlowView[] }).flows;
}

async function post(body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/flows', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: res.statusCode, body: JSON.parse(res.body) as unknown };
}

async function findingsNow(traceId: string): Promise<Finding[]> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${traceId}` });
  return (JSON.parse(res.body) as { findings: Finding[] }).findings;
}


void test('--flows: the file contracts are in force; a healthy trace counts as a complete instance with its end-to-end time', async () => {
  const before = await flows();
  assert.deepEqual(before.map((f) => [f.contract.name, f.source, f.summary.instances]), [['shop-sync', 'file', 0]]);
  assert.equal(before[0]!.contract.steps.length, 3);
  const trace = newTraceId();
  await postSpans(app, shopSync(trace));
  await advance(CHECK_DELAY_MS);
  const view = (await flows())[0]!;
  assert.equal(view.summary.instances, 1);
  assert.equal(view.summary.complete, 1);
  assert.equal(view.summary.broken, 0);
  // merchant-api receive at 0 ms → shop-query cache put ends at 161 ms.
  assert.equal(view.summary.p50Us, 161_000);
  assert.equal(view.summary.p99Us, 161_000);
  const res = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${trace}` });
  assert.deepEqual((JSON.parse(res.body) as { findings: Finding[] }).findings, []);
});

void test('POST /api/v1/flows: bad contracts answer 400 in the error shape with the path and the reason', async () => {
  const cases: [unknown, RegExp][] = [
    [{ name: 'x', deadlineMs: 10, steps: [] }, /flows\[0\]\.steps: must be a non-empty list/],
    [{ name: 'x', deadlineMs: -1, steps: [{ service: 's', stage: 'write' }] }, /deadlineMs: must be a positive number/],
    [{ name: 'x', deadlineMs: 10, steps: [{ service: 's', stage: 'written' }] }, /steps\[0\]\.stage: must be one of/],
    [{ flows: [{ name: 'x', deadlineMs: 10, steps: [{ service: 's', stage: 'write', target: 'no scheme' }] }] }, /target: must be scheme:name/],
    [[{ name: 'x', deadlineMs: 10, steps: [{ service: 's', stage: 'write' }], extra: 1 }], /flows\[0\]\.extra: unknown key/],
    ['just text', /must be a list of flows/],
  ];
  for (const [body, message] of cases) {
    const res = await post(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const error = (res.body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'bad_request');
    assert.match(error.message, message);
  }
  const notJson = await app.inject({ method: 'POST', url: '/api/v1/flows', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
  assert.equal(notJson.statusCode, 400);
  assert.equal((JSON.parse(notJson.body) as { error: { code: string } }).error.code, 'invalid_json');
  assert.equal((await flows()).length, 1, 'nothing declared');
});

void test('POST /api/v1/flows declares a contract: a missing step yields flow-step-missing and a broken instance; it survives a restart', async () => {
  const audit = { name: 'shop-audit', deadlineMs: 300, steps: [{ service: 'sync-worker', stage: 'receive' }, { service: 'sync-worker', stage: 'write', target: 'file:audit' }] };
  const created = await post(audit);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body, { flows: ['shop-audit'], created: ['shop-audit'] });
  const replaced = await post({ flows: [audit] });
  assert.equal(replaced.status, 200);
  assert.deepEqual((replaced.body as { created: string[] }).created, []);

  const trace = newTraceId();
  await postSpans(app, shopSync(trace));
  await advance(CHECK_DELAY_MS);
  const [f, ...rest] = await findingsNow(trace);
  assert.deepEqual(rest, []);
  assert.equal(f!.rule, 'flow-step-missing');
  assert.equal(f!.service, 'sync-worker');
  assert.equal(f!.target, 'file:audit');
  assert.match(f!.message, /shop-audit/);
  const view = (await flows()).find((v) => v.contract.name === 'shop-audit')!;
  assert.equal(view.source, 'api');
  assert.equal(view.summary.broken, 1);
  assert.equal(view.summary.p50Us, undefined);
  assert.ok(readFileSync(join(dir, 'checker', 'flows.json'), 'utf8').includes('shop-audit'));

  await app.close();
  await store.close();
  await openApp();
  assert.deepEqual((await flows()).map((v) => [v.contract.name, v.source]), [['shop-sync', 'file'], ['shop-audit', 'api']]);
});

void test('a flow whose deadline is later than the check: checked again once the deadline passed', async () => {
  const late = { name: 'slow-audit', deadlineMs: 1200, steps: [{ service: 'merchant-api', stage: 'receive' }, { service: 'merchant-api', stage: 'write', target: 'file:late-audit' }] };
  assert.equal((await post(late)).status, 201);
  const trace = newTraceId();
  await postSpans(app, shopSync(trace, 0));
  // First check at 200 ms: the instance is pending, no finding yet.
  await advance(CHECK_DELAY_MS);
  assert.ok(app.linktrace.checker!.status().pendingRechecks > 0, 'a re-check scheduled');
  const slow = (f: Finding): boolean => f.message.includes('slow-audit');
  assert.deepEqual((await findingsNow(trace)).filter(slow), []);
  await advance(late.deadlineMs);
  const f = (await findingsNow(trace)).filter(slow);
  assert.equal(f.length, 1, JSON.stringify(f, null, 1));
  assert.equal(f[0]!.rule, 'flow-step-missing');
  assert.equal(f[0]!.service, 'merchant-api');
  // Traces of the earlier tests, re-opened by the restart, may count as instances too: all broken.
  const summary = (await flows()).find((v) => v.contract.name === 'slow-audit')!.summary;
  assert.ok(summary.broken >= 1);
  assert.equal(summary.complete, 0);
});

void test('--flows errors: the CLI refuses to start (exit 2) with the file, the line and the reason', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'flows:\n  - name: a\n    deadlineMs: 10\n    steps:\n      - service: s\n        stage: teleport\n');
  assert.throws(() => parseServeFlags({ flows: bad }), (e: Error) => e instanceof ConfigError && /bad\.yaml: line 6: flows\[0\]\.steps\[0\]\.stage: must be one of/.test(e.message));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "flows": [\n  { "name": "a", }\n] }');
  assert.throws(() => parseServeFlags({ flows: broken }), /broken\.json: line 2: /);
  assert.throws(() => parseServeFlags({ flows: join(dir, 'absent.yaml') }), /absent\.yaml: cannot read it/);
  assert.throws(() => parseServeFlags({ checkDelay: '1m', maxWait: '30s' }), /--max-wait: 30s is shorter than --check-delay/);
  assert.throws(() => parseServeFlags({ alertWebhook: ['nope'] }), /--alert-webhook: "nope" is not a URL/);
  assert.throws(() => parseServeFlags({ sentryDsn: 'https://sentry.io/1' }), /--sentry-dsn: the DSN has no public key/);
  assert.throws(() => parseServeFlags({ slowChain: 'fast' }), /--slow-chain: "fast" is not a duration/);

  const proc = runCli(['serve', '--port', '0', '--data', join(dir, 'never'), '--flows', bad]);
  const exit = await exitWithin(proc, 10_000);
  assert.equal(exit.code, 2);
  assert.match(proc.stderr(), /linktrace serve: --flows .*bad\.yaml: line 6: flows\[0\]\.steps\[0\]\.stage: must be one of/);
});
