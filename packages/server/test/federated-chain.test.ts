/**
 * Federated mode end to end, every piece its own process on loopback: five services in a chain
 * (HTTP, HTTP, a RabbitMQ queue, HTTP, HTTP), each with its own `linktrace agent`, one `linktrace
 * gateway`, and a central `linktrace serve` that receives the same spans (each service exports to
 * both). The walked trace must equal the central one; dropping one service's spans, or stopping one
 * agent, must make the walker name exactly that hop, with the hop before it as the last healthy one.
 * Needs RabbitMQ on 127.0.0.1:5672 (guest/guest): without it the test fails.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hop } from '@linktrace/storage';
import type { TraceView } from '../src/query/trace-view-types.js';
import { freePort, getJson, startAgentProcess, startChainService, startGatewayProcess, stop, until, type Started } from './federated-helpers.js';
import { runCli, startServe, exitWithin, type ServerProcess } from './serve-helpers.js';

const SERVICES = ['svc1', 'svc2', 'svc3', 'svc4', 'svc5'] as const;

interface Chain {
  central: ServerProcess;
  gateway: Started;
  agents: Started[];
  services: Started[];
  ports: number[];
}

type Body = TraceView & { error?: { code: string } };

/** Spans reduced to what must be equal between the walked and the central copy. */
function shape(view: TraceView): string[] {
  return view.spans
    .map((s, i) => {
      const parent = view.parents[i]! >= 0 ? view.spans[view.parents[i]!]!.spanId : '-';
      return `${s.spanId} parent=${s.parentSpanId ?? '-'} assembledParent=${parent} rpcid=${s.rpcid ?? '-'} ${s.service} ${s.kind} ${s.name}`;
    })
    .sort();
}

describe('federated chain: five services, five agents, one gateway, one central serve (separate processes)', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'linktrace-fed-'));
  const queue = `linktrace-fed-${process.pid}-${Date.now()}`;
  let chain: Chain;

  before(async () => {
    const central = await startServe(['--data', join(dir, 'central'), '--no-ui', '--check-delay', '1s']);
    const gateway = await startGatewayProcess(['--hop-timeout', '2s', '--walk-timeout', '20s']);
    const ports = await Promise.all(SERVICES.map(() => freePort()));
    // svc4's agent declares its address (its spans will be dropped: it must be known without them);
    // the others learn theirs from the spans they store.
    // One at a time: five processes loading their stores at once starve each other on a loaded machine.
    const agents: Started[] = [];
    for (let i = 0; i < SERVICES.length; i++) {
      agents.push(await startAgentProcess(['--data', join(dir, `agent${i + 1}`), '--gateway', gateway.url, ...(i === 3 ? ['--serves', `127.0.0.1:${ports[3]}`] : [])]));
    }
    const next = [`http://127.0.0.1:${ports[1]}`, `queue:${queue}`, `http://127.0.0.1:${ports[3]}`, `http://127.0.0.1:${ports[4]}`, ''];
    const services: Started[] = [];
    for (let i = SERVICES.length - 1; i >= 0; i--) {
      services[i] = await startChainService({
        SVC_NAME: SERVICES[i],
        SVC_PORT: String(ports[i]),
        SVC_NEXT: next[i]!,
        ...(i === 2 ? { SVC_CONSUME: queue } : {}),
        AGENT_URL: agents[i]!.url,
        CENTRAL_URL: central.url,
      });
    }
    chain = { central, gateway, agents, services, ports };
  });

  after(async () => {
    if (chain !== undefined) {
      await Promise.all(chain.services.map((s) => stop(s)));
      await Promise.all([...chain.agents.map((a) => stop(a)), stop(chain.gateway), stop(chain.central)]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** One request into svc1; its trace id, once the central copy has spans of `services`. */
  async function request(services: readonly string[]): Promise<{ traceId: string; central: TraceView }> {
    const res = await fetch(`${chain.services[0]!.url}/work`);
    const { traceId } = (await res.json()) as { traceId: string };
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const central = await until(`central copy of ${traceId}`, async () => {
      const r = await getJson<TraceView>(`${chain.central.url}/api/v1/traces/${traceId}`);
      // The consumer's ack span is the last to end on svc3; svc5's server span ends the chain.
      return r.status === 200 && services.every((s) => r.body.services.includes(s)) && r.body.spans.some((s) => s.name.startsWith('ack')) ? r.body : undefined;
    });
    return { traceId, central };
  }

  it('walks the whole chain and assembles the trace the central store has (spans, parents, rpcids)', async () => {
    const { traceId, central } = await request(SERVICES);
    const walked = await until('the walked trace equal to the central copy', async () => {
      const r = await getJson<Body>(`${chain.gateway.url}/api/v1/traces/${traceId}`);
      return r.status === 200 && r.body.spanCount === central.spanCount && r.body.hops?.every((h) => h.status === 'ok') === true ? r.body : undefined;
    });
    assert.deepEqual(shape(walked), shape(central));
    assert.deepEqual(walked.rows.length, central.rows.length);
    const hops = walked.hops!;
    assert.deepEqual(
      hops.map((h) => h.service),
      [...SERVICES],
    );
    assert.deepEqual(
      hops.map((h) => h.agent),
      chain.agents.map((a) => a.url),
    );
    assert.equal(hops[2]!.via, `queue:${queue}`, 'svc3 is reached through the queue');
    assert.equal(walked.lastHealthyHop?.service, 'svc5');
    assert.equal(walked.walk?.mode, 'entry', 'the walk starts at the agent of the address in the trace id');
    // The Zipkin route answers the same spans, with the hop summary in headers.
    const zipkin = await fetch(`${chain.gateway.url}/api/v2/trace/${traceId}`);
    assert.equal(zipkin.status, 200);
    assert.equal(((await zipkin.json()) as unknown[]).length, central.spanCount);
    assert.equal(zipkin.headers.get('x-linktrace-hops'), 'ok=5 unreachable=0 no-spans=0');
    assert.equal(zipkin.headers.get('x-linktrace-last-healthy-hop'), encodeURIComponent(`svc5@127.0.0.1:${chain.ports[4]}`));
    // Each agent checks its own hop of the healthy chain (host-local rules): nothing to report, though
    // each one alone holds a call or a message whose other side is on another host.
    for (const agent of chain.agents) {
      await until(`${agent.url} checked its hop`, async () => {
        const h = await getJson<{ checker?: { checkedTraces: number; openTraces: number; pendingRechecks: number } }>(`${agent.url}/healthz`);
        const c = h.body.checker;
        return c !== undefined && c.checkedTraces > 0 && c.openTraces === 0 && c.pendingRechecks === 0 ? true : undefined;
      });
      const f = await getJson<{ findings: { rule: string }[] }>(`${agent.url}/api/v1/findings?traceId=${traceId}`);
      assert.equal(f.status, 200);
      assert.deepEqual(f.body.findings, [], `${agent.url}: no finding on a healthy chain`);
    }
  });

  it("dropping one service's spans names exactly that hop no-spans, the hop before it last healthy", async () => {
    await fetch(`${chain.services[3]!.url}/drop`, { method: 'POST' });
    try {
      const { traceId } = await request(SERVICES);
      const walked = await until('the walk to stop at svc4', async () => {
        const r = await getJson<Body>(`${chain.gateway.url}/api/v1/traces/${traceId}`);
        return r.status === 200 && r.body.hops?.some((h) => h.status !== 'ok') === true && r.body.services.includes('svc3') && r.body.spans.some((s) => s.service === 'svc3' && s.kind === 'client') ? r.body : undefined;
      });
      const broken = walked.hops!.filter((h) => h.status !== 'ok');
      assert.equal(broken.length, 1, JSON.stringify(walked.hops));
      const hop = broken[0]!;
      assert.equal(hop.status, 'no-spans');
      assert.equal(hop.service, 'svc4');
      assert.equal(hop.instance, `127.0.0.1:${chain.ports[3]}`);
      assert.equal(hop.agent, chain.agents[3]!.url);
      assert.equal(walked.lastHealthyHop?.service, 'svc3');
      assert.equal(walked.hops![hop.from!]!.service, 'svc3');
      assert.ok(!walked.services.includes('svc5'), 'nothing past the missing hop is reached');
    } finally {
      await fetch(`${chain.services[3]!.url}/keep`, { method: 'POST' });
    }
  });

  it('stopping one agent names exactly its hop unreachable, and linktrace trace --server prints it', async () => {
    await stop(chain.agents[1]!);
    const { traceId } = await request(SERVICES);
    const walked = await until('the walk to stop at svc2', async () => {
      const r = await getJson<Body>(`${chain.gateway.url}/api/v1/traces/${traceId}`);
      return r.status === 200 && r.body.hops?.some((h) => h.status !== 'ok') === true && r.body.spans.some((s) => s.service === 'svc1' && s.kind === 'client') ? r.body : undefined;
    });
    const hops: Hop[] = walked.hops!;
    assert.deepEqual(
      hops.map((h) => `${h.service}:${h.status}`),
      ['svc1:ok', 'svc2:unreachable'],
    );
    assert.equal(hops[1]!.agent, chain.agents[1]!.url);
    assert.match(hops[1]!.reason ?? '', /cannot connect|no answer/);
    assert.equal(walked.lastHealthyHop?.service, 'svc1');
    const cli = runCli(['trace', traceId, '--server', chain.gateway.url, '--width', '100']);
    // Only tells a hang from a slow start: the CLI loads every subcommand, and the machine may be loaded.
    const exit = await exitWithin(cli, 240_000);
    assert.equal(exit.code, 0, cli.stderr());
    assert.match(cli.stdout(), /svc2 127\.0\.0\.1:\d+ {2}\[UNREACHABLE\]/);
    assert.match(cli.stdout(), /last healthy hop: #0 svc1/);
  });
});
