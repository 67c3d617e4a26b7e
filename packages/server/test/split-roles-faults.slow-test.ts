/**
 * Issue 14, item 4: the split roles ride out crashes. On loopback: a three-node NATS cluster with
 * JetStream (streams replicated three times), two collectors, two ingesters, two checkers (each owning
 * half of the trace-id partitions), a query role, and ClickHouse with two shards. Shop-sync traces are
 * sent in two halves through different collectors, a quarter of them with an injected chain fault;
 * mid-stream a collector, an ingester, a checker and the NATS node leading the span stream are
 * SIGKILLed. The checker is started again as its unit's Restart=on-failure would (its share of the
 * partitions has no other owner); the others stay dead. Then: every span of every acknowledged
 * batch is queryable exactly once, every injected fault is found exactly once (and no healthy trace
 * has a finding).
 *
 * No timed assertions: every wait polls with a generous bound that only tells a hang from a slow
 * machine (2 shared cores at a load of 20 were seen).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startClickHouseShards, startNatsCluster, startRole, type ClickHouseShards, type NatsCluster, type RoleProcess } from '../src/testing/index.js';
import { planTrace, sendBatch, type PlannedTrace, type SendStats } from './split-roles-traffic.js';

const TRACES = Number(process.env.LT_FAULT_TRACES ?? 240);
const FAULT_EVERY = 4;
/** Traces per request (each request carries one half of each). */
const PER_BATCH = 6;
const CHECK_DELAY = '4s';
const SPANS_STREAM = 'LINKTRACE_SPANS';

let nats: NatsCluster;
let clickhouse: ClickHouseShards;
let dir: string;
const roles: RoleProcess[] = [];

function natsFlags(): string[] {
  return ['--nats', nats.urls, '--replicas', '3', '--partitions', '8'];
}

async function role(name: string, label: string, args: string[]): Promise<RoleProcess> {
  const p = await startRole(name, ['--port', '0', ...args], { label });
  roles.push(p);
  return p;
}

function checkerArgs(i: number): string[] {
  return [...natsFlags(), ...clickhouse.storeFlags('lt_faults'), '--partition', `${i}/2`, '--data', join(dir, `checker-${i}`), '--check-delay', CHECK_DELAY];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lt-faults-'));
  [nats, clickhouse] = await Promise.all([startNatsCluster(), startClickHouseShards({ cluster: 'lt_faults' })]);
});

after(async () => {
  for (const p of roles) await p.kill();
  await nats?.stop();
  await clickhouse?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface TraceAnswer {
  spans: { spanId: string }[];
}
interface FindingsAnswer {
  findings: { traceId: string; rule: string; spanId: string }[];
}

async function getJson<T>(url: string): Promise<{ status: number; body: T | undefined }> {
  try {
    const res = await fetch(url);
    const text = await res.text();
    return { status: res.status, body: res.ok ? (JSON.parse(text) as T) : undefined };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** Polls `probe` until it answers true; `ms` only tells a hang from a slow machine. */
async function until(what: string, probe: () => Promise<boolean>, ms: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; ${detail()}`);
    await sleep(500);
  }
}

it('kills a collector, an ingester, a checker and a NATS node mid-stream: nothing acknowledged is lost or doubled, every fault found once', { timeout: 20 * 60_000 }, async (t) => {
  // The first role creates the streams; the others find them (no race on creation).
  const collectors = [await role('collector', 'collector#1', [...natsFlags(), '--grpc-port', '0'])];
  collectors.push(await role('collector', 'collector#2', [...natsFlags(), '--grpc-port', '0']));
  const storeFlags = clickhouse.storeFlags('lt_faults');
  const ingesters = [await role('ingester', 'ingester#1', [...natsFlags(), ...storeFlags])];
  ingesters.push(await role('ingester', 'ingester#2', [...natsFlags(), ...storeFlags]));
  const checkers = [await role('checker', 'checker#0', checkerArgs(0)), await role('checker', 'checker#1', checkerArgs(1))];
  const query = await role('query', 'query', [...storeFlags, '--no-ui']);

  const plans: PlannedTrace[] = [];
  for (let n = 0; n < TRACES; n++) plans.push(planTrace(n, FAULT_EVERY));
  const batches: PlannedTrace[][] = [];
  for (let i = 0; i < plans.length; i += PER_BATCH) batches.push(plans.slice(i, i + PER_BATCH));

  const live = (): string[] => collectors.filter((c) => c.running()).map((c) => c.url!);
  const stats: SendStats = { acknowledged: 0, retried: 0, failures: new Map() };
  const total = batches.length * 2;
  // Two senders, each taking the next batch; a batch's halves go to different collectors.
  let next = 0;
  let failed = false;
  const sender = async (): Promise<void> => {
    while (next < batches.length && !failed) {
      const b = next++;
      const batch = batches[b]!;
      await sendBatch(live, b, batch.flatMap((p) => p.halves[0]), stats);
      const rest = batch.flatMap((p) => p.halves[1]);
      if (rest.length > 0) await sendBatch(live, b + 1, rest, stats);
      else stats.acknowledged++;
      await sleep(50);
    }
  };
  const guarded = (run: () => Promise<void>) => async (): Promise<void> => {
    try {
      await run();
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  // The crashes, each when a share of the requests has been acknowledged: requests are in flight.
  const killed: string[] = [];
  const crashes = async (): Promise<void> => {
    const at = async (share: number): Promise<void> => {
      while (stats.acknowledged < total * share) {
        if (failed) throw new Error('the stream stopped before this crash');
        await sleep(20);
      }
    };
    await at(0.2);
    await collectors[0]!.kill();
    killed.push(`collector#1 at ${stats.acknowledged}/${total}`);
    await at(0.35);
    await ingesters[0]!.kill();
    killed.push(`ingester#1 at ${stats.acknowledged}/${total}`);
    await at(0.5);
    await checkers[0]!.kill();
    killed.push(`checker#0 at ${stats.acknowledged}/${total}`);
    const leaderName = (await nats.streamLeader(SPANS_STREAM)) ?? (await nats.metaLeader());
    const natsNode = nats.nodes.find((n) => n.name === leaderName) ?? nats.nodes[1]!;
    await at(0.6);
    await natsNode.kill();
    killed.push(`NATS ${natsNode.name} (leader of ${SPANS_STREAM}: ${leaderName === natsNode.name}) at ${stats.acknowledged}/${total}`);
    // systemd's Restart=on-failure, a little later: the checker's share has no other owner.
    await at(0.7);
    checkers[0] = await role('checker', 'checker#0 (restarted)', checkerArgs(0));
    killed.push(`checker#0 restarted at ${stats.acknowledged}/${total}`);
  };
  await Promise.all([guarded(sender)(), guarded(sender)(), guarded(crashes)()]);
  t.diagnostic(`crashes: ${killed.join('; ')}`);
  t.diagnostic(`requests acknowledged ${stats.acknowledged}/${total}, attempts sent again ${stats.retried}: ${JSON.stringify([...stats.failures])}`);
  assert.equal(killed.length, 5, 'every crash happened before the stream ended');
  assert.equal(stats.acknowledged, total);

  // Every acknowledged span queryable exactly once (the query role reads the Distributed tables).
  const pending = new Set(plans.map((p) => p.traceId));
  const expected = new Map(plans.map((p) => [p.traceId, [...p.halves[0], ...p.halves[1]].map((s) => s.spanId).sort()]));
  const problems = new Map<string, string>();
  await until(
    'every acknowledged trace to be queryable whole',
    async () => {
      for (const traceId of [...pending]) {
        const { status, body } = await getJson<TraceAnswer>(`${query.url}/api/v1/traces/${traceId}`);
        if (body === undefined) {
          problems.set(traceId, `status ${status}`);
          continue;
        }
        const got = body.spans.map((s) => s.spanId).sort();
        if (JSON.stringify(got) === JSON.stringify(expected.get(traceId))) {
          pending.delete(traceId);
          problems.delete(traceId);
        } else problems.set(traceId, `spans ${got.join(',')}`);
      }
      return pending.size === 0;
    },
    10 * 60_000,
    () => `${pending.size} traces not whole, e.g. ${[...problems].slice(0, 3).join('; ')}`,
  );

  // Every injected fault found exactly once, on its span; no finding on a healthy trace.
  const faults = new Map(plans.filter((p) => p.fault !== undefined).map((p) => [p.traceId, p]));
  const ours = new Set(plans.map((p) => p.traceId));
  let findings: FindingsAnswer['findings'] = [];
  const readFindings = async (): Promise<void> => {
    const { body } = await getJson<FindingsAnswer>(`${query.url}/api/v1/findings?limit=10000`);
    findings = (body?.findings ?? []).filter((f) => ours.has(f.traceId));
  };
  const missing = (): PlannedTrace[] => [...faults.values()].filter((p) => !findings.some((f) => f.traceId === p.traceId && f.rule === p.fault));
  // Not a failure yet when it times out: the comparison below names every trace that is wrong,
  // faults not found and findings on healthy traces alike.
  await until(
    'every injected fault to be found',
    async () => {
      await readFindings();
      return missing().length === 0;
    },
    10 * 60_000,
  ).catch((err: Error) => t.diagnostic(err.message));
  // Settle: past two check delays more, a late re-check (redelivered spans) would have shown.
  for (const c of checkers) assert.ok(c.running(), `${c.label} is running: ${c.stderr().slice(-2000)}`);
  await sleep(10_000);
  await readFindings();
  const byTrace = new Map<string, string[]>();
  for (const f of findings) byTrace.set(f.traceId, [...(byTrace.get(f.traceId) ?? []), `${f.rule}@${f.spanId}`]);
  const wrong: string[] = [];
  for (const p of plans) {
    const want = p.fault === undefined ? [] : [`${p.fault}@${p.faultSpanId}`];
    const got = (byTrace.get(p.traceId) ?? []).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${p.traceId}: want [${want.join(',')}] got [${got.join(',')}]`);
  }
  t.diagnostic(`traces ${plans.length}, faults ${faults.size}, findings ${findings.length}`);
  assert.deepEqual(wrong, [], `findings per trace (${missing().length} of ${faults.size} faults not found)`);
  // The survivors are still up (a crash of a survivor would be a bug the checks above could hide).
  for (const p of [collectors[1]!, ingesters[1]!, checkers[1]!, query]) assert.ok(p.running(), `${p.label} exited: ${p.stderr().slice(-2000)}`);
});
