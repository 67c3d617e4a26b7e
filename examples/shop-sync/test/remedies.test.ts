/**
 * Remedies on the shop-sync demo against the real services (PostgreSQL, MariaDB, Redis, RabbitMQ) and
 * a real `linktrace serve` with remedies on: a dropped write is replayed by the sync toolkit's
 * re-sync, a change whose message was lost is published again and consumed, a duplicate write is
 * undone; each ends verified by the re-check, and concurrent clicks run a remedy once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import amqp from 'amqplib';
import { parseServeFlags, startServer, type RunningServer } from '@linktrace/server';
import { startShopSync, type ShopSync } from '../src/start-shop-sync.js';
import type { Fault } from '../src/faults.js';
import { waitFor } from './trace-helpers.js';

const TOKEN = 'demo-remedy-token';
const SECRET = 'demo-remedy-secret-0123456789';
const CHECK_DELAY_MS = 3000;
/** Generous: the machine may be loaded; each wait polls and ends as soon as its state is reached. */
const WAIT_MS = 90_000;

interface FindingView {
  id: string;
  traceId: string;
  rule: string;
  service: string;
  entity?: { key: string; version?: string };
  remedy?: { state: string; remedyTraceId?: string };
}
interface RemedyView {
  id: string;
  state: string;
  reason?: string;
  remedyTraceId?: string;
}

let dir: string;
let server: RunningServer;
let demo: ShopSync;
const prefix = `ss_rem_${randomBytes(3).toString('hex')}`;
let n = 0;
const newId = (): string => `${prefix}-${++n}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lt-remedy-demo-'));
  const options = parseServeFlags({ port: '0', grpcPort: '0', host: '127.0.0.1', data: dir, checkDelay: `${CHECK_DELAY_MS}ms`, maxWait: '30s', remedyToken: TOKEN, remedySecret: SECRET });
  server = await startServer(options, { print: () => undefined, warn: () => undefined });
  demo = await startShopSync({
    backends: 'real',
    real: { prefix },
    endpoint: `${server.url}/v1/traces`,
    exportDelayMs: 200,
    remedies: { endpoint: server.url, secret: SECRET, pollMs: 1000 },
  });
});

after(async () => {
  await demo?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function json<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}

async function findingFor(rule: string, key: string): Promise<FindingView> {
  return waitFor(
    `${rule} finding of shop ${key}`,
    async () => (await json<{ findings: FindingView[] }>(`/api/v1/findings?rule=${rule}&limit=1000`)).body.findings.find((f) => f.entity?.key === key),
    WAIT_MS,
  );
}

function click(id: string, body: object = {}): Promise<{ status: number; body: { created?: boolean; remedy: RemedyView } }> {
  return json(`/api/v1/findings/${id}/remedy`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function settled(remedyId: string): Promise<RemedyView> {
  return waitFor(
    `remedy ${remedyId} to be verified, failed or expired`,
    async () => {
      const r = (await json<{ remedy: RemedyView }>(`/api/v1/remedies/${encodeURIComponent(remedyId)}`)).body.remedy;
      return ['verified', 'failed', 'expired', 'superseded'].includes(r.state) ? r : undefined;
    },
    WAIT_MS,
  );
}

async function change(id: string, open: boolean, fault?: Fault): Promise<number> {
  const reply = await demo.changeShop(id, open, fault);
  assert.equal(reply.status, 200, reply.body);
  return (JSON.parse(reply.body) as { version: number }).version;
}

it('a dropped write is replayed by re-syncing the shop, verified, and two concurrent clicks run it once', async () => {
  const id = newId();
  const version = await change(id, true, 'drop-write');
  const finding = await findingFor('missing-write', id);
  assert.equal(finding.service, 'sync-worker');
  assert.equal(await demo.backends.userShops.get(id), undefined, 'the write was dropped');
  const [a, b] = await Promise.all([click(finding.id), click(finding.id)]);
  assert.deepEqual([a.status, b.status].sort(), [200, 202]);
  assert.equal(a.body.remedy.id, b.body.remedy.id);
  const done = await settled(a.body.remedy.id);
  assert.equal(done.state, 'verified', done.reason);
  assert.deepEqual(await demo.backends.userShops.get(id), { id, open: true, version });
  assert.deepEqual(await demo.backends.cache.get(id), { id, open: true, version });
  // A click after it is done does nothing.
  const again = await click(finding.id);
  assert.equal(again.status, 200);
  assert.equal(again.body.remedy.state, 'verified');
  const runs = (await json<{ remedies: RemedyView[] }>(`/api/v1/remedies?findingId=${finding.id}`)).body.remedies;
  assert.equal(runs.length, 1);
});

it('a change whose message was lost is published again, consumed and verified', async () => {
  const id = newId();
  // Nobody consumes; the message is then lost (purged), as a broker restart without persistence would.
  for (const w of demo.workers) await w.setConsuming(false);
  const version = await change(id, false);
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    const channel = await connection.createChannel();
    await waitFor('the message on the queue', async () => ((await channel.checkQueue(`${prefix}.shop-changed`)).messageCount > 0 ? true : undefined), WAIT_MS);
    await channel.purgeQueue(`${prefix}.shop-changed`);
    await channel.close();
  } finally {
    await connection.close();
  }
  const finding = await findingFor('not-consumed', id);
  assert.equal(finding.service, 'merchant-api');
  for (const w of demo.workers) await w.setConsuming(true);
  const first = await click(finding.id);
  assert.equal(first.status, 202, JSON.stringify(first.body));
  const done = await settled(first.body.remedy.id);
  assert.equal(done.state, 'verified', done.reason);
  assert.deepEqual(await demo.backends.userShops.get(id), { id, open: false, version });
});

it('a duplicate write is undone (checked against the source) and verified', async () => {
  const id = newId();
  await change(id, true, 'deliver-twice');
  const finding = await findingFor('duplicate-write', id);
  const first = await click(finding.id);
  assert.equal(first.status, 202, JSON.stringify(first.body));
  assert.match(first.body.remedy.id, /\.undo\.1$/);
  const done = await settled(first.body.remedy.id);
  assert.equal(done.state, 'verified', done.reason);
  const view = (await json<{ findings: FindingView[] }>(`/api/v1/findings?traceId=${finding.traceId}&rule=duplicate-write`)).body.findings.find((f) => f.id === finding.id);
  assert.equal(view?.remedy?.state, 'verified');
});
