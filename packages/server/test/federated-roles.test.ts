/**
 * The agent and gateway roles in process: what an agent learns from the spans it stores and tells
 * the gateway (and keeps across a restart), that it keeps taking spans with its gateway down, and the
 * gateway's refusals of bad heartbeats, its directory limit, its token, and its answer for a trace
 * no agent has.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTraceIdGenerator, encodeNativeJson } from '@linktrace/model';
import { span, T0 } from '@linktrace/model/testing';
import { AgentDirectory, type AgentInfo } from '@linktrace/storage';
import { ConfigError } from '../src/config.js';
import { resolveStoreKind } from '../src/cli/open-store.js';
import { openStore } from '../src/cli/store-url.js';
import { AGENT_STORE_FLUSH_MS, parseAgentFlags, startAgent, type RunningAgent } from '../src/federated/agent.js';
import { buildGatewayApp } from '../src/federated/gateway-app.js';
import { parseGatewayFlags, startGateway } from '../src/federated/gateway.js';
import { until } from './federated-helpers.js';

const newId = createTraceIdGenerator({ ipv4: '10.9.8.7', port: 4242 });

async function postSpans(agent: RunningAgent, spans: Parameters<typeof encodeNativeJson>[0]): Promise<number> {
  const res = await fetch(`${agent.server.url}/api/v1/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(encodeNativeJson(spans)) });
  await res.arrayBuffer();
  return res.status;
}

function gatewayOptions(directory: AgentDirectory, token?: string): Parameters<typeof buildGatewayApp>[0] {
  return { directory, hopTimeoutMs: 500, walkTimeoutMs: 2000, maxAgentsPerWalk: 10, maxSpans: 1000, maxAnswerBytes: 1 << 20, uiDir: false, check: {}, ...(token === undefined ? {} : { token }) };
}

const validInfo: AgentInfo = { agent: 'http://127.0.0.1:9/', heartbeatMs: 1000, startedAtMs: 0, instances: [], addresses: [], queues: [], origins: [], spansStored: 0 };

describe('federated roles', { timeout: 180_000 }, () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'linktrace-fedroles-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('an agent learns instances, addresses, queues and trace origins from its spans, tells the gateway, and keeps them across a restart', async () => {
    const gateway = await startGateway(parseGatewayFlags({ port: '0', ui: false }));
    const data = tmp();
    const flags = { port: '0', data, gateway: gateway.url, heartbeat: '100ms', serves: '127.0.0.1:*,queue:declared-q' };
    let agent = await startAgent(parseAgentFlags(flags), { print: () => {}, warn: () => {} });
    try {
      const traceId = newId();
      const status = await postSpans(agent, [
        span({ traceId, spanId: '0000000000000001', service: 'api', instance: '127.0.0.1:3001', kind: 'server', attributes: { 'server.address': 'localhost', 'server.port': 3001 } }),
        span({ traceId, spanId: '0000000000000002', parentSpanId: '0000000000000001', service: 'api', instance: '127.0.0.1:3001', kind: 'producer', startUs: T0 + 5, attributes: { 'messaging.destination.name': 'orders' } }),
        span({ traceId, spanId: '0000000000000003', parentSpanId: '0000000000000002', service: 'worker', kind: 'consumer', startUs: T0 + 9, attributes: { 'messaging.destination.name': 'orders' } }),
      ]);
      assert.equal(status, 200);
      const info = await until('the agent to learn from its spans', async () => {
        const body = (await (await fetch(`${agent.server.url}/api/v1/agent`)).json()) as AgentInfo;
        return body.origins.length > 0 && body.queues.length > 1 ? body : undefined;
      });
      assert.equal(info.agent, agent.url);
      assert.deepEqual(info.origins, ['10.9.8.7:4242']);
      assert.deepEqual(
        info.addresses.map((a) => `${a.address}=${a.service ?? ''}`),
        ['127.0.0.1:*=', '127.0.0.1:3001=api'],
      );
      assert.deepEqual(
        info.queues.map((q) => q.queue),
        ['declared-q', 'orders'],
      );
      assert.deepEqual(
        info.instances.map((i) => `${i.service}@${i.instance ?? ''}`),
        ['api@127.0.0.1:3001', 'worker@'],
      );
      // The gateway has it, with what it learned, and walks the trace from it.
      await until('the gateway to hold the learned origin', () => Promise.resolve(gateway.directory.agentsOfOrigin('10.9.8.7:4242').length === 1 ? true : undefined));
      const walked = (await (await fetch(`${gateway.url}/api/v1/traces/${traceId}`)).json()) as { spanCount: number; hops: { service: string; status: string }[]; findings: unknown[] };
      assert.equal(walked.spanCount, 3);
      assert.deepEqual(
        walked.hops.map((h) => `${h.service}:${h.status}`),
        ['api:ok', 'worker:ok'],
      );
      // Restarted without a gateway: it still knows what its store holds.
      await agent.close();
      agent = await startAgent(parseAgentFlags({ port: '0', data }), { print: () => {}, warn: () => {} });
      const again = (await (await fetch(`${agent.server.url}/api/v1/agent`)).json()) as AgentInfo;
      assert.deepEqual(again.origins, ['10.9.8.7:4242']);
      assert.ok(again.queues.some((q) => q.queue === 'orders'));
    } finally {
      await agent.close();
      await gateway.close();
    }
  });

  it('an agent whose gateway is down keeps taking and answering spans, and says so once', async () => {
    const warnings: string[] = [];
    const agent = await startAgent(parseAgentFlags({ port: '0', data: tmp(), gateway: 'http://127.0.0.1:9', heartbeat: '100ms' }), { print: () => {}, warn: (l) => warnings.push(l) });
    try {
      await until('a failed heartbeat', () => Promise.resolve(agent.heartbeat!.failed >= 3 ? true : undefined));
      const traceId = newId();
      assert.equal(await postSpans(agent, [span({ traceId, spanId: '00000000000000a1', service: 'api' })]), 200);
      const stored = await until('the span stored', async () => {
        const res = await fetch(`${agent.server.url}/api/v1/traces/${traceId}?format=native`);
        return res.status === 200 ? ((await res.json()) as { spans: unknown[] }) : undefined;
      });
      assert.equal(stored.spans.length, 1);
      assert.equal(warnings.filter((w) => w.includes('heartbeat to http://127.0.0.1:9 failed')).length, 1);
    } finally {
      await agent.close();
    }
  });

  it('the gateway refuses bad heartbeats (400), a directory past its limit (409), and reads without the token (401)', async () => {
    const directory = new AgentDirectory(Date.now, 2);
    const app = await buildGatewayApp(gatewayOptions(directory, 'sekret'));
    const auth = { authorization: 'Bearer sekret' };
    const post = (body: unknown, headers: Record<string, string> = auth) => app.inject({ method: 'POST', url: '/api/v1/agents', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    try {
      const bad: [unknown, RegExp][] = [
        [[], /body: not a JSON object/],
        [{ ...validInfo, agent: 'ftp://x' }, /agent: not an http\(s\) URL/],
        [{ ...validInfo, agent: 'http://user:pw@x' }, /credentials/],
        [{ ...validInfo, heartbeatMs: 5 }, /heartbeatMs/],
        [{ ...validInfo, addresses: [{ address: 'no-port' }] }, /addresses\[0\]\.address: not host:port/],
        [{ ...validInfo, addresses: 'x' }, /addresses: not an array/],
        [{ ...validInfo, origins: Array.from({ length: 10_001 }, () => '1.2.3.4:5') }, /more than 10000 entries/],
        [{ ...validInfo, queues: [{ queue: 'q'.repeat(300) }] }, /queues\[0\]\.queue/],
      ];
      for (const [body, message] of bad) {
        const res = await post(body);
        assert.equal(res.statusCode, 400, res.body);
        const error = (res.json() as { error: { code: string; message: string } }).error;
        assert.equal(error.code, 'bad_request');
        assert.match(error.message, message);
      }
      const broken = await app.inject({ method: 'POST', url: '/api/v1/agents', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"agent":' });
      assert.equal(broken.statusCode, 400);
      assert.equal(directory.size, 0, 'nothing bad was registered');
      assert.equal((await post({ ...validInfo, agent: 'http://a.test' })).statusCode, 200);
      assert.equal((await post({ ...validInfo, agent: 'http://b.test' })).statusCode, 200);
      assert.equal((await post({ ...validInfo, agent: 'http://a.test' })).statusCode, 200, 'a known agent is refreshed');
      const full = await post({ ...validInfo, agent: 'http://c.test' });
      assert.equal(full.statusCode, 409);
      assert.equal((full.json() as { error: { code: string } }).error.code, 'too_many_agents');
      const anonymous = await post({ ...validInfo, agent: 'http://a.test' }, {});
      assert.equal(anonymous.statusCode, 401);
      assert.equal((await app.inject({ method: 'GET', url: '/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736' })).statusCode, 401);
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const list = (await app.inject({ method: 'GET', url: '/api/v1/agents', headers: auth })).json() as { agents: { agent: string; alive: boolean }[] };
      assert.deepEqual(
        list.agents.map((a) => a.agent),
        ['http://a.test', 'http://b.test'],
      );
      const badId = await app.inject({ method: 'GET', url: '/api/v1/traces/xyz', headers: auth });
      assert.equal((badId.json() as { error: { code: string } }).error.code, 'invalid_trace_id');
    } finally {
      await app.close();
    }
  });

  it('a trace no agent can give: 404 with the hop that failed beside the error', async () => {
    const directory = new AgentDirectory();
    directory.register({ ...validInfo, agent: 'http://127.0.0.1:9', origins: ['10.9.8.7:4242'] });
    const app = await buildGatewayApp(gatewayOptions(directory));
    try {
      const id = newId();
      const res = await app.inject({ method: 'GET', url: `/api/v1/traces/${id}` });
      assert.equal(res.statusCode, 404);
      const body = res.json() as { error: { code: string }; hops: { status: string; agent: string }[]; lastHealthyHop: unknown };
      assert.equal(body.error.code, 'not_found');
      assert.deepEqual(
        body.hops.map((h) => `${h.agent} ${h.status}`),
        ['http://127.0.0.1:9 unreachable'],
      );
      assert.equal(body.lastHealthyHop, null);
      const zipkin = await app.inject({ method: 'GET', url: `/api/v2/trace/${id}` });
      assert.equal(zipkin.statusCode, 404);
      assert.equal(zipkin.headers['x-linktrace-broken-hop'], `unreachable ${encodeURIComponent('10.9.8.7:4242@10.9.8.7:4242')}`);
    } finally {
      await app.close();
    }
  });

  it('an agent runs the host-local chain checker unless --no-local-check, and its store gathers batches', async () => {
    const plain = parseAgentFlags({ port: '0', data: tmp() });
    assert.equal(plain.serve.checkerOff, false);
    assert.equal(plain.serve.checker.hostLocal, true);
    assert.deepEqual(plain.serve.store?.kind === 'embedded' && [plain.serve.store.flushIntervalMs, plain.serve.store.traceSummaries], [AGENT_STORE_FLUSH_MS, false]);
    assert.equal(parseAgentFlags({ port: '0', data: tmp(), localCheck: false }).serve.checkerOff, true);
    // The flush interval reaches the store (it refuses a bad one).
    await assert.rejects(openStore({ kind: 'embedded', dataDir: tmp(), flushIntervalMs: -1 }, { clock: Date.now }), /flushIntervalMs/);
    for (const localCheck of [false, true]) {
      const agent = await startAgent(parseAgentFlags({ port: '0', data: tmp(), localCheck }), { print: () => {}, warn: () => {} });
      try {
        assert.equal(agent.server.app.linktrace.checker !== undefined, localCheck);
        // Searches on an agent still answer (the store runs without its summary table).
        const id = newId();
        assert.equal(await postSpans(agent, [span({ traceId: id, spanId: '0000000000000001', service: 'searched', kind: 'server' })]), 200);
        const hits = await until('the span searchable', async () => {
          const body = (await (await fetch(`${agent.server.url}/api/v1/traces?service=searched`)).json()) as { traces?: { traceId: string; spanCount: number }[] };
          return body.traces !== undefined && body.traces.length > 0 ? body.traces : undefined;
        });
        assert.deepEqual(hits.map((h) => [h.traceId, h.spanCount]), [[id, 1]]);
        const health = (await (await fetch(`${agent.server.url}/healthz`)).json()) as { checker?: unknown };
        assert.equal(health.checker !== undefined, localCheck);
      } finally {
        await agent.close();
      }
    }
  });

  it('an agent takes --store-format: a new data directory becomes a block store, its traces read back after a restart', async () => {
    assert.throws(() => parseAgentFlags({ port: '0', data: tmp(), storeFormat: 'csv' }), ConfigError);
    const plainStore = parseAgentFlags({ port: '0', data: tmp() }).serve.store;
    assert.equal(plainStore?.kind === 'embedded' ? plainStore.format : 'not embedded', undefined);
    const data = tmp();
    const flags = { port: '0', data, storeFormat: 'blocks' };
    let agent = await startAgent(parseAgentFlags(flags), { print: () => {}, warn: () => {} });
    const id = newId();
    try {
      assert.equal(await postSpans(agent, [span({ traceId: id, spanId: '0000000000000001', service: 'blocky', kind: 'server' }), span({ traceId: id, spanId: '0000000000000002', parentSpanId: '0000000000000001', service: 'blocky', startUs: T0 + 3 })]), 200);
      await until('the spans stored', () => Promise.resolve(agent.info().spansStored >= 2 ? true : undefined));
    } finally {
      await agent.close();
    }
    assert.equal(resolveStoreKind(data), 'blocks');
    // After a restart on a store that is not empty, a trace is read from the store, not from memory.
    agent = await startAgent(parseAgentFlags({ port: '0', data }), { print: () => {}, warn: () => {} });
    try {
      const res = await fetch(`${agent.server.url}/api/v1/traces/${id}?format=native`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { spanId: string }[] | { spans: { spanId: string }[] };
      const spans = Array.isArray(body) ? body : body.spans;
      assert.deepEqual(spans.map((s) => s.spanId).sort(), ['0000000000000001', '0000000000000002']);
    } finally {
      await agent.close();
    }
  });
});
