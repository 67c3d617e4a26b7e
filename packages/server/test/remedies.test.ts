/**
 * Remedies end to end on a listening server with the chain checker: a broken chain's finding is
 * repaired by a live instance's handler (a real SDK RemedyAgent over HTTP), re-checked and verified;
 * a second request does nothing; refusals (no token, forged results and deliveries, rate limit, rules
 * without a remedy) are answered and audited; expiry and lapsed leases go by the server's clock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { signRemedy, signRemedyResult, type RemedyDelivery, type Span } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore } from '@linktrace/storage';
import { RemedyAgent, createTracing, otlpHttpExporter, stagesFor, type Tracing } from '@linktrace/sdk';
import { buildApp } from '../src/app.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { RemedyBook } from '../src/remedies/remedy-book.js';
import { RemedyAudit } from '../src/remedies/remedy-audit.js';
import { remedyOptions } from '../src/remedies/remedy-options.js';
import type { FindingView } from '../src/remedies/finding-views.js';
import { remedyCommand, type RemedyFlags } from '../src/cli/remedy.js';
import { ID, advanceAndCheck, manualClock, newTraceId, postSpans, shopSync as shopSyncAt, without } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;
const TOKEN = 'remedy-token-for-tests';
const SECRET = 'a-remedy-secret-of-some-length';
const clock = manualClock();
const shopSync = (trace: string): Span[] => shopSyncAt(trace, 1000, clock.now());

let dir: string;
let store: EmbeddedStore;
let app: FastifyInstance;
let url: string;
let tracing: Tracing;
let agent: RemedyAgent | undefined;

before(async () => {
  dir = tempDir('lt-remedy-');
  store = await openEmbeddedStore({ dataDir: dir });
  app = await buildApp({
    store,
    dataDir: dir,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 },
    clock: clock.now,
    remedies: { token: TOKEN, secret: SECRET, perServicePerMinute: 3, ttlMs: 60_000, leaseMs: 10_000 },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  url = `http://127.0.0.1:${address.port}`;
  tracing = createTracing({ service: 'sync-worker', instance: '10.0.0.2:8080', exporter: otlpHttpExporter({ url: `${url}/v1/traces` }) });
});

after(async () => {
  await agent?.stop();
  await tracing?.shutdown();
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const advance = (ms: number): Promise<void> => advanceAndCheck(app, clock, ms);

async function findingsOf(traceId: string): Promise<FindingView[]> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${traceId}` });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { findings: FindingView[] }).findings;
}

/** A shop-sync trace whose worker received the change and wrote nothing: one missing-write finding. */
async function missingWrite(): Promise<FindingView> {
  const trace = newTraceId();
  await postSpans(app, without(shopSync(trace), ID.workerMysql, ID.workerRedis, ID.workerHttp));
  await advance(CHECK_DELAY_MS + 1);
  const found = (await findingsOf(trace)).filter((f) => f.rule === 'missing-write');
  assert.equal(found.length, 1, JSON.stringify(found));
  return found[0]!;
}

/** `token` null: no Authorization header. */
function requestRemedy(id: string, body: unknown = {}, token: string | null = TOKEN) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/findings/${id}/remedy`,
    payload: body as object,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

function audit(): { event: string; [k: string]: unknown }[] {
  return readFileSync(join(dir, 'remedies', 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { event: string });
}

async function remedyState(id: string): Promise<{ state: string; reason?: string; remedyTraceId?: string }> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/remedies/${encodeURIComponent(id)}` });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { remedy: { state: string; reason?: string } }).remedy;
}

async function until(probe: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('findings carry an id; a request without the remedy token is refused and audited', async () => {
  const f = await missingWrite();
  assert.equal(f.id, `${f.traceId}-${f.spanId}-missing-write`);
  for (const token of [null, 'wrong']) {
    const res = await requestRemedy(f.id, {}, token);
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(JSON.parse(res.body).error.code, 'remedy_forbidden');
  }
  assert.ok(audit().filter((e) => e.event === 'refused').length >= 2);
  const list = await app.inject({ method: 'GET', url: `/api/v1/remedies?findingId=${f.id}` });
  assert.deepEqual(JSON.parse(list.body).remedies, []);
});

test('bad requests: not a finding id, no such finding, a rule without a remedy, the wrong action', async () => {
  assert.equal((await requestRemedy('nope')).statusCode, 400);
  const unknown = `${newTraceId()}-b000000000000001-missing-write`;
  const res = await requestRemedy(unknown);
  assert.equal(res.statusCode, 404, res.body);
  const f = await missingWrite();
  const undo = await requestRemedy(f.id, { action: 'undo' });
  assert.equal(undo.statusCode, 409);
  assert.equal(JSON.parse(undo.body).error.code, 'remedy_not_applicable');
  assert.equal((await requestRemedy(f.id, { action: 'explode' })).statusCode, 400);
  assert.equal((await requestRemedy(f.id, { unknownField: 1 })).statusCode, 400);
});

test('a dry run says what would run and queues nothing', async () => {
  const f = await missingWrite();
  const res = await requestRemedy(f.id, { dryRun: true });
  assert.equal(res.statusCode, 200, res.body);
  const body = JSON.parse(res.body);
  assert.equal(body.dryRun, true);
  assert.equal(body.remedy.stage, 'receive');
  assert.equal(body.remedy.service, 'sync-worker');
  assert.match(body.wouldRun, /queued until a live instance of sync-worker/);
  const list = await app.inject({ method: 'GET', url: `/api/v1/remedies?findingId=${f.id}` });
  assert.deepEqual(JSON.parse(list.body).remedies, []);
  assert.ok(audit().some((e) => e.event === 'dry-run' && e.findingId === f.id));
});

test('a missing write is replayed by a live instance, re-checked and verified; a second click does nothing', async () => {
  const f = await missingWrite();
  const stages = stagesFor(tracing);
  const replayed: { key?: string; version?: string }[] = [];
  agent = new RemedyAgent({ tracing, endpoint: url, secret: SECRET, pollMs: 2000, warn: () => {} });
  agent.register({
    stage: 'receive',
    replay: async (r) => {
      replayed.push({ key: r.entity?.key, version: r.entity?.version });
      const entity = { type: r.entity!.type, key: r.entity!.key, version: r.entity!.version };
      await stages.receive(entity, () => stages.write(entity, 'mysql:user_shop', () => Promise.resolve()));
    },
  });
  agent.start();
  const first = await requestRemedy(f.id);
  assert.equal(first.statusCode, 202, first.body);
  const id = JSON.parse(first.body).remedy.id as string;
  const again = await requestRemedy(f.id);
  assert.equal(again.statusCode, 200);
  assert.equal(JSON.parse(again.body).created, false);
  assert.equal(JSON.parse(again.body).remedy.id, id);
  // Verified may come at once: the re-check starts when the result arrives.
  await until(async () => ['succeeded', 'verified'].includes((await remedyState(id)).state), 'the handler to succeed');
  assert.deepEqual(replayed, [{ key: '42', version: '7' }]);
  const { remedyTraceId } = await remedyState(id);
  assert.match(remedyTraceId!, /^[0-9a-f]{32}$/);
  // The remedy's trace arrives and is checked like any other; then the re-check verifies it.
  await until(async () => (await store.getTrace(remedyTraceId!)).length >= 3, 'the remedy trace to be stored');
  await advance(CHECK_DELAY_MS + 1);
  await app.linktrace.remedies!.tick();
  const done = await remedyState(id);
  assert.equal(done.state, 'verified', done.reason);
  assert.match(done.reason!, /write/);
  const view = (await findingsOf(f.traceId)).find((x) => x.id === f.id)!;
  assert.equal(view.remedy?.state, 'verified');
  assert.equal(view.remedy?.remedyTraceId, remedyTraceId);
  // The remedy trace links to the broken one.
  const root = (await store.getTrace(remedyTraceId!)).find((s) => s.attributes['linktrace.remedy.id'] === id)!;
  assert.deepEqual(
    root.links.map((l) => [l.traceId, l.spanId]),
    [[f.traceId, f.spanId]],
  );
  // A click after it is done: the same remedy, nothing runs again.
  const third = await requestRemedy(f.id);
  assert.equal(third.statusCode, 200);
  assert.equal(JSON.parse(third.body).remedy.state, 'verified');
  assert.equal(replayed.length, 1);
  assert.equal(agent.counters.ran, 1);
});

test('the agent refuses forged, replayed and expired deliveries; a result needs the secret', async () => {
  const a = new RemedyAgent({ tracing, endpoint: url, secret: SECRET, warn: () => {} });
  let runs = 0;
  a.register({ stage: 'receive', replay: () => void runs++ });
  const d: RemedyDelivery = {
    id: 'x.replay.1',
    findingId: `${newTraceId()}-b000000000000001-missing-write`,
    action: 'replay',
    rule: 'missing-write',
    service: 'sync-worker',
    stage: 'receive',
    operation: 'receive shop',
    traceId: newTraceId(),
    spanId: 'b000000000000001',
    expiresAtMs: Date.now() + 60_000,
  };
  assert.equal(await a.handle(d, signRemedy(d, 'another-secret-entirely')), undefined);
  assert.equal(await a.handle({ ...d, entity: { type: 'shop', key: '43' } }, signRemedy(d, SECRET)), undefined, 'a changed field breaks the signature');
  const expired = { ...d, id: 'x.replay.2', expiresAtMs: Date.now() - 1 };
  assert.equal(await a.handle(expired, signRemedy(expired, SECRET)), undefined);
  assert.equal(runs, 0);
  assert.equal(a.counters.refused, 3);
  // Genuine: runs once (its report is refused by the server: it never delivered it), and once only.
  await a.handle(d, signRemedy(d, SECRET));
  await a.handle(d, signRemedy(d, SECRET));
  assert.equal(runs, 1);
  assert.equal(a.counters.refused, 4);
  await a.stop();

  const forged = await app.inject({
    method: 'POST',
    url: '/api/v1/remedies/some-id/result',
    payload: { service: 'sync-worker', instance: 'x', status: 'succeeded', signature: 'sha256=00' },
  });
  assert.equal(forged.statusCode, 403);
  assert.equal(JSON.parse(forged.body).error.code, 'remedy_forbidden');
  assert.ok(audit().some((e) => e.event === 'refused' && /not signed/.test(String(e.reason))));
});

test('no live instance: the remedy waits, then expires with a clear state; a claimed one that never answers fails', async () => {
  await agent?.stop();
  agent = undefined;
  const f = await missingWrite();
  const res = await requestRemedy(f.id);
  assert.equal(res.statusCode, 202, res.body);
  const id = JSON.parse(res.body).remedy.id as string;
  assert.equal((await remedyState(id)).state, 'pending');
  clock.advance(60_001);
  await app.linktrace.remedies!.tick();
  const expired = await remedyState(id);
  assert.equal(expired.state, 'expired');
  assert.match(expired.reason!, /no live instance of sync-worker with a replay handler for stage receive/);

  // Asking again after expiry starts a new attempt; an instance claims it and never reports.
  const retry = await requestRemedy(f.id);
  assert.equal(retry.statusCode, 202, retry.body);
  const id2 = JSON.parse(retry.body).remedy.id as string;
  assert.match(id2, /\.replay\.2$/);
  const claim = await app.inject({
    method: 'POST',
    url: '/api/v1/remedies/claim',
    payload: { service: 'sync-worker', instance: 'hangs', handlers: [{ stage: 'receive', actions: ['replay'] }] },
  });
  assert.equal(claim.statusCode, 200, claim.body);
  const { delivery, signature } = JSON.parse(claim.body) as { delivery: RemedyDelivery; signature: string };
  assert.equal(delivery.id, id2);
  assert.equal(signature, signRemedy(delivery, SECRET));
  clock.advance(10_001);
  await app.linktrace.remedies!.tick();
  const lapsed = await remedyState(id2);
  assert.equal(lapsed.state, 'failed');
  assert.match(lapsed.reason!, /no result within/);
  // A late result from it is a conflict, not a state change.
  const result = { status: 'succeeded' as const };
  const late = await app.inject({
    method: 'POST',
    url: `/api/v1/remedies/${encodeURIComponent(id2)}/result`,
    payload: { service: 'sync-worker', instance: 'hangs', ...result, signature: signRemedyResult(id2, result, SECRET) },
  });
  assert.equal(late.statusCode, 409, late.body);
  assert.equal((await remedyState(id2)).state, 'failed');
});

test('a service is asked for at most perServicePerMinute remedies a minute', async () => {
  clock.advance(61_000);
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await requestRemedy((await missingWrite()).id)).statusCode);
  assert.deepEqual(codes, [202, 202, 202, 429]);
  const limited = await requestRemedy((await missingWrite()).id);
  assert.equal(JSON.parse(limited.body).error.code, 'remedy_rate_limited');
  assert.ok(Number(limited.headers['retry-after']) > 0);
});

test('linktrace remedy: refuses bad arguments, dry-runs, requests, and a repeat says it was already requested', async () => {
  clock.advance(61_000);
  const run = async (id: string, flags: RemedyFlags, env: Record<string, string> = {}) => {
    let out = '';
    let err = '';
    const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, setExitCode: () => {}, now: Date.now, env };
    const code = await remedyCommand(id, flags, io);
    return { code, out, err };
  };
  const f = await missingWrite();
  assert.equal((await run('not-an-id', { server: url, remedyToken: TOKEN })).code, 2);
  const noToken = await run(f.id, { server: url });
  assert.equal(noToken.code, 2);
  assert.match(noToken.err, /--remedy-token/);
  const wrong = await run(f.id, { server: url, remedyToken: 'wrong' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /remedy_forbidden/);
  const dry = await run(f.id, { server: url, dryRun: true }, { LINKTRACE_REMEDY_TOKEN: TOKEN });
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /^dry run: queued until a live instance of sync-worker/);
  const first = await run(f.id, { server: url, remedyToken: TOKEN });
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /^requested: .*\.replay\.1 \(replay of receive "consume shop-changed" in sync-worker\): pending/);
  const again = await run(f.id, { server: url, remedyToken: TOKEN });
  assert.match(again.out, /^already requested: /);
});

test('the book keeps its records across a restart', () => {
  const options = remedyOptions({ token: TOKEN, secret: SECRET });
  const reopened = new RemedyBook(dir, options, new RemedyAudit(dir, clock.now), clock.now);
  const before = app.linktrace.remedies!.book.list({ limit: 1000 });
  const after = reopened.list({ limit: 1000 });
  assert.deepEqual(
    after.map((r) => [r.delivery.id, r.state]),
    before.map((r) => [r.delivery.id, r.state]),
  );
  assert.ok(after.length >= 5);
});

test('remedy options: missing or weak secrets are refused with the flag named', () => {
  assert.throws(() => remedyOptions({ token: TOKEN }), /--remedy-secret/);
  assert.throws(() => remedyOptions({ token: TOKEN, secret: 'short' }), /at least 16/);
  assert.throws(() => remedyOptions({ secret: SECRET }), /--remedy-token/);
  assert.throws(() => remedyOptions({ token: SECRET, secret: SECRET }), /must differ/);
});
