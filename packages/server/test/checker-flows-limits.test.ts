/**
 * Issue 11 item 3: flow contracts cannot stall ingest. Their number and size are bounded, checking a
 * trace evaluates only the contracts it could be an instance of, API contracts can be deleted (for
 * good), and without a token nobody may declare or delete them unless --allow-anonymous-writes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openEmbeddedStore, type EmbeddedStore } from '@linktrace/storage';
import type { FlowContract } from '@linktrace/analysis';
import { shopSyncSpans } from '@linktrace/analysis/testing';
import { buildApp, type AppOptions } from '../src/app.js';
import { FlowRegistry, type FlowView } from '../src/checker/flow-registry.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { ConfigError } from '../src/config.js';
import { tempDir } from './query-test-support.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Opened {
  app: FastifyInstance;
  store: EmbeddedStore;
  close(): Promise<void>;
}

async function open(dir: string, options: Partial<AppOptions> = {}): Promise<Opened> {
  const store = await openEmbeddedStore({ dataDir: dir });
  const app = await buildApp({ store, dataDir: dir, checker: { checkDelayMs: 60_000, maxFlows: 5 }, ...options });
  await app.ready();
  return {
    app,
    store,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

function contract(name: string, steps = 2): FlowContract {
  return {
    name,
    deadlineMs: 1000,
    steps: Array.from({ length: steps }, (_, i) => ({ service: `${name}-svc`, stage: i === 0 ? 'receive' : 'write' })),
  } as FlowContract;
}

async function send(app: FastifyInstance, method: 'POST' | 'DELETE', url: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: res.statusCode, json: JSON.parse(res.body) as { error?: { code: string; message: string } } & Record<string, unknown> };
}

async function names(app: FastifyInstance, token?: string): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/flows', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { flows: FlowView[] }).flows.map((v) => v.contract.name);
}

void test('without a token, declaring or deleting a flow is refused (403 anonymous_write) unless --allow-anonymous-writes', async () => {
  const dir = tempDir('lt-flow-limits-');
  dirs.push(dir);
  let s = await open(dir);
  try {
    const posted = await send(s.app, 'POST', '/api/v1/flows', contract('a'));
    assert.equal(posted.status, 403);
    assert.equal(posted.json.error?.code, 'anonymous_write');
    assert.match(posted.json.error?.message ?? '', /--allow-anonymous-writes/);
    const deleted = await send(s.app, 'DELETE', '/api/v1/flows/a');
    assert.equal(deleted.status, 403);
    assert.deepEqual(await names(s.app), [], 'reading stays open; nothing was declared');
  } finally {
    await s.close();
  }
  // With a token, the token is what counts.
  s = await open(dir, { token: 'sesame' });
  try {
    assert.equal((await send(s.app, 'POST', '/api/v1/flows', contract('a'))).status, 401);
    assert.equal((await send(s.app, 'POST', '/api/v1/flows', contract('a'), 'sesame')).status, 201);
  } finally {
    await s.close();
  }
  s = await open(dir, { allowAnonymousWrites: true });
  try {
    assert.equal((await send(s.app, 'POST', '/api/v1/flows', contract('b'))).status, 201);
    assert.deepEqual(await names(s.app), ['a', 'b']);
  } finally {
    await s.close();
  }
});

void test('5 000 contracts in one POST are refused (409 too_many_flows); so is going past the limit; steps and body are bounded', async () => {
  const dir = tempDir('lt-flow-limits-');
  dirs.push(dir);
  const s = await open(dir, { allowAnonymousWrites: true });
  try {
    const flood = Array.from({ length: 5000 }, (_, i) => contract(`f${i}`));
    const refused = await send(s.app, 'POST', '/api/v1/flows', { flows: flood });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error?.code, 'too_many_flows');
    assert.deepEqual(await names(s.app), []);

    assert.equal((await send(s.app, 'POST', '/api/v1/flows', [contract('a'), contract('b'), contract('c'), contract('d')])).status, 201);
    const past = await send(s.app, 'POST', '/api/v1/flows', [contract('e'), contract('f')]);
    assert.equal(past.status, 409);
    assert.match(past.json.error?.message ?? '', /4 flow contracts are in force and this request adds 2; at most 5/);
    // Replacing one in force adds nothing.
    assert.equal((await send(s.app, 'POST', '/api/v1/flows', [contract('a', 3), contract('e')])).status, 201);
    assert.deepEqual(await names(s.app), ['a', 'b', 'c', 'd', 'e']);

    const long = await send(s.app, 'POST', '/api/v1/flows', contract('g', 65));
    assert.equal(long.status, 400);
    assert.match(long.json.error?.message ?? '', /at most 64 steps/);
    const huge = await send(s.app, 'POST', '/api/v1/flows', JSON.stringify({ name: 'h', pad: 'x'.repeat(1100 * 1024) }));
    assert.equal(huge.status, 413);
    assert.equal(huge.json.error?.code, 'payload_too_large');
  } finally {
    await s.close();
  }
});

void test('DELETE /api/v1/flows/{name} removes an API contract, and the removal survives a restart', async () => {
  const dir = tempDir('lt-flow-limits-');
  dirs.push(dir);
  let s = await open(dir, { allowAnonymousWrites: true, checker: { checkDelayMs: 60_000, flows: [contract('from-file')] } });
  try {
    assert.equal((await send(s.app, 'POST', '/api/v1/flows', [contract('keep'), contract('drop')])).status, 201);
    const deleted = await send(s.app, 'DELETE', '/api/v1/flows/drop');
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, { deleted: 'drop' });
    const again = await send(s.app, 'DELETE', '/api/v1/flows/drop');
    assert.equal(again.status, 404);
    assert.equal(again.json.error?.code, 'not_found');
    const fileFlow = await send(s.app, 'DELETE', '/api/v1/flows/from-file');
    assert.equal(fileFlow.status, 400);
    assert.match(fileFlow.json.error?.message ?? '', /--flows file/);
    assert.deepEqual(await names(s.app), ['from-file', 'keep']);
  } finally {
    await s.close();
  }
  assert.ok(!readFileSync(join(dir, 'checker', 'flows.json'), 'utf8').includes('"drop"'));
  s = await open(dir, { allowAnonymousWrites: true });
  try {
    assert.deepEqual(await names(s.app), ['keep'], 'the deleted contract stays deleted after a restart');
  } finally {
    await s.close();
  }
});

void test('checking a trace evaluates the same number of contracts with 1 000 in force as with 1', () => {
  const shop: FlowContract = { name: 'shop', deadlineMs: 1000, steps: [{ service: 'merchant-api', stage: 'receive' }, { service: 'sync-worker', stage: 'write' }] };
  const others = Array.from({ length: 999 }, (_, i) => contract(`other-${i}`));
  const one = new FlowRegistry([shop], 100, undefined, 1000);
  const many = new FlowRegistry([shop, ...others], 100, undefined, 1000);
  const t0 = 1_700_000_000_000_000;
  for (let k = 0; k < 10; k++) {
    const spans = shopSyncSpans(`${k.toString(16).padStart(2, '0')}${'0'.repeat(30)}`, t0);
    one.evaluate(spans, t0 + 60_000_000);
    many.evaluate(spans, t0 + 60_000_000);
  }
  assert.equal(one.evaluations, 10);
  assert.equal(many.evaluations, one.evaluations, 'the 999 contracts no trace can start are never evaluated');
  assert.equal(many.views().find((v) => v.contract.name === 'shop')!.summary.instances, 10, 'the matching contract still counts every instance');
});

void test('a --flows file of more contracts than can be in force is a bad flag', () => {
  const dir = tempDir('lt-flow-limits-');
  dirs.push(dir);
  const file = join(dir, 'flows.json');
  writeFileSync(file, JSON.stringify({ flows: Array.from({ length: 1001 }, (_, i) => contract(`f${i}`)) }));
  assert.throws(() => parseServeFlags({ flows: file }), (e: Error) => e instanceof ConfigError && /declares 1001 flow contracts; at most 1000/.test(e.message));
  writeFileSync(file, JSON.stringify({ flows: Array.from({ length: 1000 }, (_, i) => contract(`f${i}`)) }));
  assert.equal(parseServeFlags({ flows: file }).checker.flows?.length, 1000);
});
