/**
 * The data the browser tests look at: every shared fixture (Zipkin, OTLP, Jaeger's OTLP traces),
 * the shop-sync demo with faults switched on, and generated traces of a given size.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { startShopSync } from '@linktrace/example-shop-sync/dist/src/start-shop-sync.js';
import { getJson, postJson, waitFor } from './ui-harness.js';

export const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/', import.meta.url));

/** Posts every fixture file to its receiver; returns the trace ids of the Zipkin ones by file name. */
export async function ingestFixtures(url: string): Promise<{ files: number; zipkin: Map<string, string> }> {
  assert.ok(existsSync(join(FIXTURES, 'zipkin')), `fixtures not found at ${FIXTURES}`);
  let files = 0;
  const zipkin = new Map<string, string>();
  for (const name of readdirSync(join(FIXTURES, 'zipkin')).filter((f) => f.endsWith('.json'))) {
    const v = JSON.parse(readFileSync(join(FIXTURES, 'zipkin', name), 'utf8')) as { traceId: string } | { traceId: string }[];
    const spans = Array.isArray(v) ? v : [v];
    await postJson(`${url}/api/v2/spans`, spans);
    zipkin.set(name, spans[0]!.traceId.toLowerCase());
    files++;
  }
  const otlp = [join(FIXTURES, 'otlp', 'example-trace.json'), ...readdirSync(join(FIXTURES, 'jaeger', 'traces')).map((f) => join(FIXTURES, 'jaeger', 'traces', f))];
  for (const file of otlp) {
    await postJson(`${url}/v1/traces`, JSON.parse(readFileSync(file, 'utf8')));
    files++;
  }
  return { files, zipkin };
}

/** The flow contract the demo's changes are checked against. */
export const SHOP_FLOW = {
  name: 'shop-change',
  steps: [
    { service: 'merchant-api', stage: 'receive' },
    { service: 'merchant-api', stage: 'enqueue', target: 'mq:shop-changed' },
    { service: 'sync-worker', stage: 'receive' },
    { service: 'sync-worker', stage: 'write', target: 'mysql:user_shop' },
    { service: 'shop-query', stage: 'receive' },
  ],
  deadlineMs: 1500,
};

interface Finding {
  traceId: string;
  rule: string;
  spanId: string;
}

/**
 * Runs the shop-sync demo (in-process stand-ins for its stores and queue) against the server: a few
 * healthy changes and one of each fault that the checker reports on its own, then waits until the
 * server has found them.
 */
export async function runShopSync(url: string): Promise<Finding[]> {
  await postJson(`${url}/api/v1/flows`, SHOP_FLOW);
  const demo = await startShopSync({ backends: 'memory', endpoint: `${url}/v1/traces`, exportDelayMs: 100, slowMs: 300 });
  try {
    const run = Date.now().toString(36);
    const faults = [undefined, 'drop-write', undefined, 'lose-notification', 'deliver-twice', undefined, 'crash-mid-process'] as const;
    let i = 0;
    for (const fault of faults) {
      const reply = await demo.changeShop(`ui${run}-${i++}`, i % 2 === 0, fault);
      assert.equal(reply.status, 200, reply.body);
    }
    // Let the last hops finish, then send everything.
    await new Promise((r) => setTimeout(r, 700));
    await demo.flush();
  } finally {
    await demo.close();
  }
  return waitFor('the demo faults found by the server', async () => {
    const { findings } = await getJson<{ findings: Finding[] }>(`${url}/api/v1/findings`);
    const rules = new Set(findings.map((f) => f.rule));
    return ['missing-write', 'missing-downstream-receive', 'duplicate-write'].every((r) => rules.has(r)) ? findings : undefined;
  }, 20_000);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').slice(-width);
}

/**
 * A generated trace of `count` spans: a root, then each span calls up to `fanout` children, laid out
 * breadth first, with rpcids and a few services. Positions listed in `lose` are left out (lost hops).
 */
export function generateTrace(count: number, opts: { fanout?: number; lose?: readonly string[]; seed?: number } = {}): { traceId: string; spans: Span[] } {
  const fanout = opts.fanout ?? 8;
  const seed = opts.seed ?? count;
  const traceId = `${hex(Date.now(), 12)}${hex(seed, 8)}${hex(Math.floor(Math.random() * 0xffffffff), 12)}`;
  const startUs = Date.now() * 1000 - 60_000_000;
  const services = ['gateway', 'orders', 'inventory', 'payments', 'ledger', 'notify'];
  const lose = new Set(opts.lose ?? []);
  const spans: Span[] = [];
  const queue: { rpcid: string; parent?: string; depth: number; start: number; budget: number }[] = [{ rpcid: '0', depth: 0, start: startUs, budget: 2_000_000 }];
  let made = 0;
  while (queue.length > 0 && made < count) {
    const at = queue.shift()!;
    made++;
    const spanId = hex(seed * 100_000 + made, 16);
    if (!lose.has(at.rpcid)) {
      spans.push({
        traceId,
        spanId,
        parentSpanId: at.parent,
        rpcid: at.rpcid,
        service: services[at.depth % services.length]!,
        name: `op-${at.depth}-${made % 7}`,
        kind: at.depth === 0 ? 'server' : 'internal',
        startUs: at.start,
        durationUs: at.budget,
        status: { code: made % 97 === 0 ? 'error' : 'unset' },
        attributes: { 'gen.index': made, 'gen.depth': at.depth },
        events: [],
        links: [],
      });
    }
    const step = Math.max(1, Math.floor(at.budget / (fanout + 1)));
    for (let c = 1; c <= fanout; c++) {
      queue.push({ rpcid: `${at.rpcid}.${c}`, parent: spanId, depth: at.depth + 1, start: at.start + c * step * 0.5, budget: step });
    }
  }
  return { traceId, spans };
}

/** Sends spans through the native route in batches; waits until the trace reads back whole. */
export async function ingestTrace(url: string, traceId: string, spans: readonly Span[]): Promise<void> {
  for (let i = 0; i < spans.length; i += 2000) {
    const r = (await postJson(`${url}/api/v1/spans`, encodeNativeJson(spans.slice(i, i + 2000)))) as { accepted: number; rejected: number };
    assert.equal(r.rejected, 0);
  }
  await waitFor(`trace ${traceId} stored`, async () => {
    const res = await fetch(`${url}/api/v1/traces/${traceId}`);
    if (res.status !== 200) return undefined;
    const view = (await res.json()) as { spanCount: number };
    return view.spanCount === spans.length ? true : undefined;
  });
}
