import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { encodeNativeJson } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { ID, advanceAndCheck, eventually, manualClock, newTraceId, postSpans, shopSync, without, type ManualClock } from './checker-traces.js';
import { tempDir } from './query-test-support.js';
import { exitWithin, startServe } from './serve-helpers.js';

async function open(dir: string, checkDelayMs: number, clock: ManualClock): Promise<{ store: EmbeddedStore; app: FastifyInstance }> {
  const store = await openEmbeddedStore({ dataDir: dir });
  const app = await buildApp({
    store,
    dataDir: dir,
    clock: clock.now,
    checker: { checkDelayMs, maxWaitMs: 10_000 },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.ready();
  return { store, app };
}

async function metric(app: FastifyInstance, name: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

async function findingsVia(get: (path: string) => Promise<string>, traceId: string, ms: number): Promise<Finding[]> {
  return eventually(
    async () => {
      const f = (JSON.parse(await get(`/api/v1/findings?traceId=${traceId}`)) as { findings: Finding[] }).findings;
      return f.length > 0 ? f : undefined;
    },
    ms,
    `findings of ${traceId}`,
  );
}

void test('a clean restart before the check delay: the pending trace is checked by the next run, a checked one is not counted again', async () => {
  const dir = tempDir('lt-checker-restart-');
  try {
    const clock = manualClock();
    let { store, app } = await open(dir, 400, clock);
    const checked = newTraceId();
    await postSpans(app, shopSync(checked, 1000, clock.now()).filter((s) => s.service === 'merchant-api'));
    await advanceAndCheck(app, clock, 400);
    const first = (await store.findFindings({ traceId: checked }));
    assert.deepEqual(first.map((f) => f.rule), ['not-consumed']);
    assert.equal(await metric(app, 'linktrace_findings_total{rule="not-consumed"}'), 1);

    // Stopped before the next trace is due.
    const pending = newTraceId();
    await postSpans(app, without(shopSync(pending, 1000, clock.now()), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite));
    await advanceAndCheck(app, clock, 399);
    await app.close();
    await store.close();
    assert.deepEqual(await (async () => {
      const s = await openEmbeddedStore({ dataDir: dir });
      try {
        return await s.findFindings({ traceId: pending });
      } finally {
        await s.close();
      }
    })(), [], 'not checked before the restart');
    const checkpoint = JSON.parse(readFileSync(join(dir, 'checker', 'checkpoint.json'), 'utf8')) as { pendingSinceUs: number };
    assert.ok(checkpoint.pendingSinceUs <= clock.now() * 1000);

    ({ store, app } = await open(dir, 200, clock));
    try {
      await advanceAndCheck(app, clock, 200);
      const after = await store.findFindings({ traceId: pending });
      assert.deepEqual(after.map((f) => [f.rule, f.service]), [['missing-write', 'sync-worker']]);
      assert.ok(app.linktrace.checker!.status().restored >= 2, JSON.stringify(app.linktrace.checker!.status()));
      // The trace checked by the first run was checked again (it is in the restart window) but its finding is not new.
      assert.ok(app.linktrace.checker!.status().checkedTraces >= 2, 'both traces re-checked');
      assert.equal(await metric(app, 'linktrace_findings_total{rule="missing-write"}'), 1);
      assert.equal(await metric(app, 'linktrace_findings_total{rule="not-consumed"}'), 0);
      assert.equal((await store.findFindings({ traceId: checked })).length, 1);
    } finally {
      await app.close();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('kill -9 while a trace waits for its check: the restarted server still checks it', async () => {
  const dir = tempDir('lt-checker-kill-');
  try {
    const first = await startServe(['--data', dir, '--check-delay', '30s']);
    const trace = newTraceId();
    try {
      const res = await fetch(`${first.url}/api/v1/spans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(encodeNativeJson(shopSync(trace).filter((s) => s.service === 'merchant-api'))),
      });
      assert.equal(res.status, 200, await res.text());
      // Let the pipeline store it (the log would replay it otherwise; both paths must work).
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      first.kill();
      await exitWithin(first, 5000);
    }
    assert.ok(existsSync(join(dir, 'checker', 'checkpoint.json')));

    const second = await startServe(['--data', dir, '--check-delay', '200ms']);
    try {
      const get = async (path: string): Promise<string> => (await fetch(`${second.url}${path}`)).text();
      // A new process on a loaded machine: a bounded wait for the check, not a time budget.
      const found = await findingsVia(get, trace, 60_000);
      assert.deepEqual(found.map((f) => [f.rule, f.service, f.target]), [['not-consumed', 'merchant-api', 'mq:shop-changed']]);
    } finally {
      second.child.kill('SIGTERM');
      await exitWithin(second, 10_000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
