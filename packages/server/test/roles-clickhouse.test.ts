/**
 * The split roles on their intended store: collector → NATS JetStream → ingester → ClickHouse
 * (clickhouse-server started by this file) ← query, with a checker writing findings there. Each
 * role opens its own store handle from the URL, as separate processes would. A batch the sender
 * retried (so stored twice) reads once through the query role; the fault of a trace is found once.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { startLocalClickHouse, type LocalClickHouse } from '@linktrace/storage/clickhouse-testing';
import { startRole } from '../src/roles/run-role.js';
import { startChecker } from '../src/roles/checker-role.js';
import type { RoleStart, RunningRole } from '../src/roles/running-role.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { ID, manualClock, newTraceId, shopSync, without } from './checker-traces.js';
import { metricValue, roleOptions, startLocalNats, until, type LocalNats } from './roles-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const postSpans = (url: string, spans: Span[]) => post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(spans)), JSON_TYPE);

describe('split roles on ClickHouse', { timeout: 300_000 }, () => {
  let clickhouse: LocalClickHouse;
  let nats: LocalNats;
  let dataDir: string;
  const roles: RunningRole[] = [];
  before(async () => {
    clickhouse = await startLocalClickHouse();
    nats = await startLocalNats();
    dataDir = await tempDir('linktrace-roles-ch-');
  });
  after(async () => {
    for (const r of roles.reverse()) await r.close();
    await nats?.destroy();
    await clickhouse?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('collector → ingester → ClickHouse ← query; a retried batch reads once; the checker finds the fault once', async () => {
    const store = `clickhouse://127.0.0.1:${clickhouse.httpPort}/lt_roles`;
    const clock = manualClock();
    const start: RoleStart = { warn: () => {}, print: () => {}, clock: clock.now };
    const collector = await startRole(roleOptions('collector', { nats: nats.url, partitions: '4' }), start);
    roles.push(collector);
    const ingester = await startRole(roleOptions('ingester', { nats: nats.url, store, partitions: '4' }), start);
    roles.push(ingester);
    const checker = await startChecker(roleOptions('checker', { nats: nats.url, store, data: dataDir, checkDelay: '5s', partitions: '4' }), start);
    roles.push(checker);
    const query = await startRole(roleOptions('query', { store }), start);
    roles.push(query);
    await until('every NATS role to be ready', async () => {
      for (const r of [collector, ingester, checker]) if ((await get(`${r.url}/healthz`)).status !== 200) return undefined;
      return true;
    }, 60_000);

    const healthy = shopSync(newTraceId(), 1000, clock.now());
    const faultyId = newTraceId();
    const faulty = without(shopSync(faultyId, 1000, clock.now()), ID.queryWrite);
    const batch = [...healthy, ...faulty];
    assert.equal((await postSpans(collector.url, batch)).status, 200);
    // The sender did not see the answer and sent the batch again.
    assert.equal((await postSpans(collector.url, batch)).status, 200);
    const healthyId = healthy[0]!.traceId;
    await until('both copies stored', async () => {
      const m = (await get(`${ingester.url}/metrics`)).body.toString();
      return metricValue(m, 'linktrace_spans_stored_total') === 2 * batch.length ? true : undefined;
    }, 60_000);
    for (const [id, count] of [[healthyId, healthy.length], [faultyId, faulty.length]] as const) {
      const res = await get(`${query.url}/api/v1/traces/${id}`);
      assert.equal(res.status, 200, res.body.toString());
      assert.equal((res.json() as { spans: unknown[] }).spans.length, count);
    }
    const search = (await get(`${query.url}/api/v1/traces?service=merchant-api&limit=10`)).json() as { traces: { traceId: string; spanCount: number }[] };
    assert.deepEqual(
      search.traces.map((t) => [t.traceId, t.spanCount]).sort(),
      [[healthyId, healthy.length], [faultyId, faulty.length]].sort(),
    );

    await until('the checker to hold both traces', async () => ((await checker.health()).checker as { openTraces: number }).openTraces === 2 ? true : undefined);
    clock.advance(10_000);
    await checker.checkNow();
    const findings = (await get(`${query.url}/api/v1/findings`)).json() as { findings: { traceId: string; rule: string; spanId: string }[] };
    assert.deepEqual(findings.findings.map((f) => [f.traceId, f.rule, f.spanId]), [[faultyId, 'missing-write', ID.queryReceive]]);
  });
});
