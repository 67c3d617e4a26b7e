/**
 * `linktrace serve --store clickhouse://…` end to end, against clickhouse-server processes this file
 * starts: spans posted are read back by id; ClickHouse down at start (stand-in /healthz says why,
 * the server comes up once it answers); ClickHouse going away mid-stream (ingest answers 503, health
 * says why, nothing acknowledged is lost once it is back).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { freePort, startLocalClickHouse, type LocalClickHouse } from '@linktrace/storage/clickhouse-testing';
import { parseServeFlags, startServer, type RunningServer } from '../src/cli/serve.js';
import { get, post, tempDir } from './ingest-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };

function batch(trace: number, count: number): { traceId: string; body: string } {
  const traceId = trace.toString(16).padStart(32, 'c');
  const spans: Span[] = [];
  for (let i = 0; i < count; i++) {
    spans.push({
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      service: 'svc',
      name: 'op',
      kind: 'internal',
      startUs: 1_700_000_000_000_000 + i,
      durationUs: 5,
      status: { code: 'unset' },
      attributes: { i },
      events: [],
      links: [],
    });
  }
  return { traceId, body: JSON.stringify(encodeNativeJson(spans)) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const spansOf = async (url: string, traceId: string): Promise<number> => {
  const res = await get(`${url}/api/v1/traces/${traceId}`);
  if (res.status === 404) return 0;
  assert.equal(res.status, 200, res.body.toString());
  return (res.json() as { spans: unknown[] }).spans.length;
};

describe('serve --store clickhouse://', () => {
  let clickhouse: LocalClickHouse;
  let dataDir: string;
  const started: RunningServer[] = [];
  before(async () => {
    clickhouse = await startLocalClickHouse();
    dataDir = await tempDir();
  });
  after(async () => {
    for (const s of started) await s.close();
    await clickhouse.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores posted spans in ClickHouse and reads them back by id; rides out ClickHouse going away', async () => {
    const flags = { port: '0', grpcPort: '0', data: dataDir, ui: false as const, store: `clickhouse://127.0.0.1:${clickhouse.httpPort}/lt_serve` };
    const printed: string[] = [];
    const server = await startServer(parseServeFlags(flags, {}), { warn: () => undefined, print: (line) => printed.push(line) });
    started.push(server);
    assert.match(printed.join('\n'), new RegExp(`\\n  store {6}clickhouse://127\\.0\\.0\\.1:${clickhouse.httpPort}/lt_serve   \\(the write-ahead log stays in data\\)`));
    const one = batch(1, 12);
    assert.equal((await post(`${server.url}/api/v1/spans`, one.body, JSON_TYPE)).status, 200);
    assert.equal(await until('trace 1 stored', async () => ((await spansOf(server.url, one.traceId)) === 12 ? true : undefined)), true);

    // ClickHouse goes away (same ports and data when it comes back).
    const ports = { http: clickhouse.httpPort, tcp: clickhouse.tcpPort, interserver: await freePort() };
    await clickhouse.stop(true);
    const acknowledged: string[] = [];
    const refused = await until('ingest to answer 503', async () => {
      const b = batch(100 + acknowledged.length, 5);
      const res = await post(`${server.url}/api/v1/spans`, b.body, JSON_TYPE);
      if (res.status === 200) acknowledged.push(b.traceId);
      return res.status === 503 ? res : undefined;
    });
    assert.match(JSON.stringify(refused.json()), /"code":"unavailable".*the store cannot take writes/);
    assert.ok(refused.headers.get('retry-after'));
    const health = await get(`${server.url}/healthz`);
    assert.equal(health.status, 503);
    assert.equal((health.json() as { store: { reachable: boolean } }).store.reachable, false);

    clickhouse = await startLocalClickHouse({ ports, dir: clickhouse.dir });
    await until('ingest to accept again', async () => ((await post(`${server.url}/api/v1/spans`, batch(999, 1).body, JSON_TYPE)).status === 200 ? true : undefined));
    await server.app.linktrace.pipeline.idle();
    assert.ok(acknowledged.length >= 1, 'at least the batch whose write found ClickHouse gone was acknowledged');
    for (const id of acknowledged) assert.equal(await spansOf(server.url, id), 5, `acknowledged trace ${id} stored once`);
    assert.equal(await spansOf(server.url, one.traceId), 12);
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
  });

  it('ClickHouse down at start: a clear message, /healthz says why, and the server starts once it answers', async () => {
    const ports = { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
    const port = await freePort();
    const warnings: string[] = [];
    const dir = await tempDir();
    const flags = { port: String(port), grpcPort: '0', data: dir, ui: false as const, store: `clickhouse://127.0.0.1:${ports.http}/lt_late` };
    const starting = startServer(parseServeFlags(flags, {}), { warn: (l) => warnings.push(l), print: () => undefined });
    const health = await until('the stand-in /healthz', async () => {
      try {
        const res = await get(`http://127.0.0.1:${port}/healthz`);
        return res.status === 503 ? res : undefined;
      } catch {
        return undefined;
      }
    });
    assert.match((health.json() as { store: { error: string } }).store.error, /unreachable/);
    assert.match(warnings[0] ?? '', new RegExp(`the store clickhouse://127.0.0.1:${ports.http}/lt_late cannot be reached .*retrying in 1s`));
    const late = await startLocalClickHouse({ ports });
    try {
      const server = await starting;
      started.push(server);
      assert.equal(server.url, `http://127.0.0.1:${port}`);
      assert.equal((await get(`${server.url}/healthz`)).status, 200);
      await server.close();
    } finally {
      await late.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
