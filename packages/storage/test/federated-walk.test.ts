/**
 * The federated walker against fake agents on loopback (one HTTP server answering for many agent
 * URLs): a healthy chain, and everything that can go wrong — a dead agent, a hanging one, garbage
 * answers, pointer cycles, a missing or dead entry agent, a directory entry pointing at the wrong
 * agent, 10 000-hop chains — each must end with a clear per-hop status, never a hang or a crash.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTraceIdGenerator, encodeNativeJson, type Span } from '@linktrace/model';
import { span, T0 } from '@linktrace/model/testing';
import { AgentDirectory, fetchAgentTrace, walkTrace, type AgentInfo, type WalkOptions } from '../src/index.js';

type Behaviour = ((traceId: string, res: ServerResponse) => void) | Span[];

const agents = new Map<string, Behaviour>();
let server: Server;
let base = '';
let deadUrl = '';

function answer(req: IncomingMessage, res: ServerResponse): void {
  const m = /^\/a\/([^/]+)\/api\/v1\/traces\/([0-9a-f]+)\?format=native$/.exec(req.url ?? '');
  const behaviour = m === null ? undefined : agents.get(m[1]!);
  if (m === null || behaviour === undefined) {
    res.statusCode = 404;
    res.end('{"error":{"code":"not_found","message":"no such agent"}}');
    return;
  }
  if (typeof behaviour === 'function') return behaviour(m[2]!, res);
  const spans = behaviour.filter((s) => s.traceId === m[2]);
  if (spans.length === 0) {
    res.statusCode = 404;
    res.end('{"error":{"code":"not_found","message":"trace not found"}}');
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(encodeNativeJson(spans)));
}

const url = (name: string): string => `${base}/a/${name}`;
const newId = createTraceIdGenerator({ ipv4: '10.1.2.3', port: 7001 });
const ORIGIN = '10.1.2.3:7001';

function info(agent: string, addresses: { address: string; service?: string }[], more: Partial<AgentInfo> = {}): AgentInfo {
  return { agent, heartbeatMs: 60_000, startedAtMs: 0, instances: [], addresses, queues: [], origins: [], spansStored: 0, ...more };
}

/** A chain of `n` hops s0 → s1 → … over HTTP; hop i's spans: its server span and (but the last) a client span to hop i+1. */
function chain(traceId: string, n: number): Span[][] {
  const hops: Span[][] = [];
  let parent: string | undefined;
  for (let i = 0; i < n; i++) {
    const sid = (2 * i + 1).toString(16).padStart(16, '0');
    const cid = (2 * i + 2).toString(16).padStart(16, '0');
    const server = span({ traceId, spanId: sid, parentSpanId: parent, service: `s${i}`, instance: `svc${i}.test:80`, kind: 'server', name: 'GET /', startUs: T0 + i * 10 });
    const spans = [server];
    if (i < n - 1) {
      spans.push(span({ traceId, spanId: cid, parentSpanId: sid, service: `s${i}`, instance: `svc${i}.test:80`, kind: 'client', name: 'GET', startUs: T0 + i * 10 + 1, attributes: { 'server.address': `svc${i + 1}.test`, 'server.port': 80 } }));
    }
    parent = cid;
    hops.push(spans);
  }
  return hops;
}

/** Registers agents `${prefix}0..n-1` holding the hops; agent 0 holds the origin. */
function setUp(prefix: string, hops: Span[][], directory: AgentDirectory): void {
  hops.forEach((spans, i) => {
    agents.set(`${prefix}${i}`, spans);
    directory.register(info(url(`${prefix}${i}`), [{ address: `svc${i}.test:80`, service: `s${i}` }], i === 0 ? { origins: [ORIGIN] } : {}));
  });
}

function options(directory: AgentDirectory, over: Partial<WalkOptions> = {}, hopTimeoutMs = 2000, maxBytes = 8 * 1024 * 1024): WalkOptions {
  return {
    directory,
    fetch: (agent, traceId, signal) => fetchAgentTrace(agent, traceId, { timeoutMs: hopTimeoutMs, maxBytes, maxSpans: 100_000, signal }),
    ...over,
  };
}

describe('federated walker', () => {
  before(async () => {
    server = createServer(answer);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A port nobody listens on: a dead agent.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('walks a 5-hop chain from the entry agent, one round per hop, all ok', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('ok', chain(traceId, 5), directory);
    const walked = await walkTrace(traceId, options(directory));
    assert.deepEqual(
      walked.hops.map((h) => `${h.service}:${h.status}:${h.spans}:${String(h.from)}`),
      ['s0:ok:2:null', 's1:ok:2:0', 's2:ok:2:1', 's3:ok:2:2', 's4:ok:1:3'],
    );
    assert.equal(walked.lastHealthyHop?.service, 's4');
    assert.equal(walked.walk.mode, 'entry');
    assert.equal(walked.walk.origin, ORIGIN);
    assert.equal(walked.walk.rounds, 5);
    assert.equal(walked.walk.agents.length, 5);
    assert.equal(walked.spans.length, 9);
    assert.ok(walked.walk.bytes > 0);
    assert.equal(walked.hops[1]!.via, 'svc1.test:80');
  });

  it('a dead agent: its hop is unreachable, the hop before it the last healthy one', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('dead', chain(traceId, 5), directory);
    directory.remove(url('dead2'));
    directory.register(info(deadUrl, [{ address: 'svc2.test:80', service: 's2' }]));
    const walked = await walkTrace(traceId, options(directory));
    assert.deepEqual(
      walked.hops.map((h) => `${h.service}:${h.status}`),
      ['s0:ok', 's1:ok', 's2:unreachable'],
    );
    assert.equal(walked.hops[2]!.agent, deadUrl);
    assert.match(walked.hops[2]!.reason!, /cannot connect \(ECONNREFUSED\)/);
    assert.equal(walked.lastHealthyHop?.service, 's1');
  });

  it('a hanging agent is cut off by the per-hop timeout and named unreachable', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('hang', chain(traceId, 4), directory);
    const held: ServerResponse[] = [];
    agents.set('hang2', (_id, res) => void held.push(res)); // never answers
    try {
      const walked = await walkTrace(traceId, options(directory, {}, 300));
      assert.deepEqual(
        walked.hops.map((h) => `${h.service}:${h.status}`),
        ['s0:ok', 's1:ok', 's2:unreachable'],
      );
      assert.equal(walked.hops[2]!.reason, `${url('hang2')}: no answer within 300 ms`);
      assert.equal(walked.lastHealthyHop?.service, 's1');
    } finally {
      for (const res of held) res.destroy();
    }
  });

  const garbage: [string, Behaviour, RegExp, 'unreachable' | 'no-spans'][] = [
    ['an HTML page', (_id, res) => res.end('<html>hello</html>'), /answered garbage \(not JSON\)/, 'unreachable'],
    ['JSON of another format', (_id, res) => res.end('{"resourceSpans":[]}'), /answered garbage \(.*format is not "linktrace\/1"/, 'unreachable'],
    ['spans that are all invalid', (_id, res) => res.end('{"format":"linktrace/1","spans":[{"traceId":"zz"},7]}'), /every span rejected/, 'unreachable'],
    ['HTTP 500', (_id, res) => ((res.statusCode = 500), res.end('oops')), /answered HTTP 500/, 'unreachable'],
    ['more bytes than allowed', (_id, res) => res.end(`{"format":"linktrace/1","spans":[],"pad":"${'x'.repeat(200_000)}"}`), /answered more than 65536 bytes/, 'unreachable'],
    ['a body cut off mid-way', (_id, res) => (res.write('{"format":"linktrace/1","spans":['), res.destroy()), /cannot connect|garbage/, 'unreachable'],
    [
      'spans of another trace only',
      (_id, res) => res.end(JSON.stringify(encodeNativeJson([span({ traceId: 'ab'.repeat(16), spanId: '00000000000000aa', service: 's2' })]))),
      /answered without spans of svc2\.test:80/,
      'no-spans',
    ],
  ];
  for (const [what, behaviour, reason, status] of garbage) {
    it(`an agent that answers ${what}: its hop is ${status}, with why`, async () => {
      const traceId = newId();
      const directory = new AgentDirectory();
      setUp(`g${garbage.findIndex((g) => g[0] === what)}-`, chain(traceId, 4), directory);
      agents.set(`g${garbage.findIndex((g) => g[0] === what)}-2`, behaviour);
      const walked = await walkTrace(traceId, options(directory, {}, 2000, 65_536));
      assert.deepEqual(
        walked.hops.map((h) => `${h.service}:${h.status}`),
        ['s0:ok', 's1:ok', `s2:${status}`],
      );
      assert.match(walked.hops[2]!.reason!, reason);
      assert.equal(walked.lastHealthyHop?.service, 's1');
    });
  }

  it('a pointer cycle (s1 calls s0 back, agents naming each other) ends: every agent is asked once', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    const hops = chain(traceId, 2);
    // s1 calls s0's address again, but s0's agent holds no span below that call.
    hops[1]!.push(span({ traceId, spanId: '00000000000000f1', parentSpanId: hops[1]![0]!.spanId, service: 's1', instance: 'svc1.test:80', kind: 'client', name: 'GET', startUs: T0 + 50, attributes: { 'server.address': 'svc0.test', 'server.port': 80 } }));
    setUp('cycle', hops, directory);
    let asked = 0;
    const walked = await walkTrace(traceId, {
      directory,
      fetch: (agent, id, signal) => {
        asked++;
        return fetchAgentTrace(agent, id, { timeoutMs: 2000, maxBytes: 1 << 20, maxSpans: 1000, signal });
      },
    });
    assert.equal(asked, 2);
    assert.deepEqual(
      walked.hops.map((h) => `${h.service}:${h.status}`),
      ['s0:ok', 's1:ok', 's0:no-spans'],
    );
    assert.equal(walked.lastHealthyHop?.service, 's1');
  });

  it('spans whose parents form a loop (no root) still give hops, without hanging', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    const a = span({ traceId, spanId: '00000000000000a1', parentSpanId: '00000000000000b1', service: 'a', kind: 'server' });
    const b = span({ traceId, spanId: '00000000000000b1', parentSpanId: '00000000000000a1', service: 'b', kind: 'server' });
    agents.set('loopA', [a, b]);
    directory.register(info(url('loopA'), [], { origins: [ORIGIN] }));
    const walked = await walkTrace(traceId, options(directory));
    assert.deepEqual(walked.hops.map((h) => h.service).sort(), ['a', 'b']);
    assert.ok(walked.hops.every((h) => h.status === 'ok'));
  });

  it('no agent knows the entry address: every agent is asked once (broadcast), the chain found', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('noentry', chain(traceId, 3), directory);
    directory.register(info(url('noentry0'), [{ address: 'svc0.test:80', service: 's0' }])); // origin forgotten
    const walked = await walkTrace(traceId, options(directory));
    assert.equal(walked.walk.mode, 'broadcast');
    assert.deepEqual(
      walked.hops.map((h) => `${h.service}:${h.status}`),
      ['s0:ok', 's1:ok', 's2:ok'],
    );
  });

  it('the entry agent is gone: the entry hop is unreachable, no hop before it, the rest still found', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('goneentry', chain(traceId, 3), directory);
    directory.remove(url('goneentry0'));
    directory.register(info(deadUrl, [{ address: 'svc0.test:80', service: 's0' }], { origins: [ORIGIN] }));
    const walked = await walkTrace(traceId, options(directory));
    assert.equal(walked.hops[0]!.status, 'unreachable');
    assert.equal(walked.hops[0]!.service, 's0');
    assert.equal(walked.hops[0]!.instance, ORIGIN);
    assert.equal(walked.lastHealthyHop, null);
    assert.deepEqual(
      walked.hops.slice(1).map((h) => `${h.service}:${h.status}`),
      ['s1:ok', 's2:ok'],
    );
  });

  it('a foreign trace id (not ours) asks every agent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const directory = new AgentDirectory();
    setUp('foreign', chain(traceId, 3), directory);
    const walked = await walkTrace(traceId, options(directory));
    assert.equal(walked.walk.mode, 'broadcast');
    assert.equal(walked.walk.origin, undefined);
    assert.equal(walked.hops.length, 3);
    assert.equal(walked.lastHealthyHop?.service, 's2');
  });

  it('a directory entry pointing at the wrong agent: that hop is no-spans at the agent asked', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('wrong', chain(traceId, 4), directory);
    directory.remove(url('wrong2'));
    directory.register(info(url('wrong3'), [{ address: 'svc2.test:80', service: 's2' }, { address: 'svc3.test:80', service: 's3' }]));
    const walked = await walkTrace(traceId, options(directory));
    const broken = walked.hops.filter((h) => h.status !== 'ok');
    assert.equal(broken.length, 1);
    assert.equal(broken[0]!.service, 's2');
    assert.equal(broken[0]!.status, 'no-spans');
    assert.equal(broken[0]!.agent, url('wrong3'));
    assert.equal(walked.lastHealthyHop?.service, 's1');
  });

  it('a 10 000-hop chain across 10 000 agents stops at the agent limit, memory bounded', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('long', chain(traceId, 10_000), directory);
    const walked = await walkTrace(traceId, options(directory, { maxAgents: 300 }));
    assert.equal(walked.walk.truncated, 'max-agents');
    assert.equal(walked.walk.agents.length, 300);
    assert.equal(walked.hops.length, 300);
    assert.ok(walked.hops.every((h) => h.status === 'ok'));
    assert.equal(walked.lastHealthyHop?.service, 's299');
    assert.ok(walked.spans.length <= 600);
  });

  it('a 10 000-hop chain under a walk deadline stops there, saying so', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    setUp('slow', chain(traceId, 10_000), directory);
    // Every agent answers after 20 ms: 10 000 rounds would take minutes.
    for (let i = 0; i < 10_000; i++) {
      const spans = agents.get(`slow${i}`) as Span[];
      agents.set(`slow${i}`, (_id, res) => void setTimeout(() => res.end(JSON.stringify(encodeNativeJson(spans))), 20));
    }
    const walked = await walkTrace(traceId, options(directory, { maxAgents: 20_000, deadlineMs: 500 }));
    assert.equal(walked.walk.truncated, 'deadline');
    assert.ok(walked.hops.length < 10_000);
    assert.ok(walked.hops.length >= 1);
  });

  it('a 10 000-hop chain held by one agent is laid out whole, breadth-first without recursion', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    const hops = chain(traceId, 10_000);
    agents.set('onehost', hops.flat());
    directory.register(info(url('onehost'), [{ address: 'svc0.test:*' }], { origins: [ORIGIN] }));
    const walked = await walkTrace(traceId, options(directory));
    assert.equal(walked.hops.length, 10_000);
    assert.equal(walked.walk.agents.length, 1);
    assert.equal(walked.lastHealthyHop?.service, 's9999');
    assert.equal(walked.lastHealthyHop?.depth, 9999);
  });

  it('a span limit bounds what one walk keeps', async () => {
    const traceId = newId();
    const directory = new AgentDirectory();
    agents.set('many', chain(traceId, 10_000).flat());
    directory.register(info(url('many'), [], { origins: [ORIGIN] }));
    const walked = await walkTrace(traceId, options(directory, { maxSpans: 1000 }));
    assert.equal(walked.walk.truncated, 'max-spans');
    assert.equal(walked.spans.length, 1000);
  });
});
