/**
 * `npm run bench:remedy`: the shop-sync demo on the real services (PostgreSQL, MariaDB, Redis,
 * RabbitMQ) with a real `linktrace serve` and remedies on. A seeded mix of broken changes
 * (`drop-write` → missing-write, `deliver-twice` → duplicate-write, a lost message → not-consumed)
 * is found by the checker; each finding gets three concurrent clicks; the bench measures the share
 * repaired and verified, the time from the finding being visible to its verified repair, and how
 * often any remedy ran more than once (deliveries in the audit log). Last line JSON.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { parseServeFlags, startServer } from '@linktrace/server';
import { startShopSync } from '@linktrace/example-shop-sync/dist/src/start-shop-sync.js';
import { envInt, percentile } from './stats.js';

const TOKEN = 'bench-remedy-token';
const SECRET = 'bench-remedy-secret-0123456789';
const CHECK_DELAY_MS = envInt('BENCH_CHECK_DELAY_MS', 2000);
const PER_KIND = envInt('BENCH_PER_KIND', 6);
const WAIT_MS = 120_000;

type Kind = 'missing-write' | 'duplicate-write' | 'not-consumed';

interface FindingView {
  id: string;
  rule: string;
  entity?: { key: string };
}
interface RemedyView {
  id: string;
  state: string;
  reason?: string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lt-bench-remedy-'));
const prefix = `ss_brem_${randomBytes(3).toString('hex')}`;
const server = await startServer(
  parseServeFlags({ port: '0', grpcPort: '0', host: '127.0.0.1', data: dir, checkDelay: `${CHECK_DELAY_MS}ms`, maxWait: '60s', remedyToken: TOKEN, remedySecret: SECRET }),
  { print: () => undefined, warn: () => undefined },
);
const demo = await startShopSync({ backends: 'real', real: { prefix }, endpoint: `${server.url}/v1/traces`, exportDelayMs: 200, remedies: { endpoint: server.url, secret: SECRET, pollMs: 1000 } });

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  return (await (await fetch(`${server.url}${path}`, init)).json()) as T;
}

const click = (id: string): Promise<{ remedy?: RemedyView }> =>
  json(`/api/v1/findings/${id}/remedy`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });

try {
  // The seeded mix: shops s-0.. with a fault each, in a fixed order.
  const changes: { key: string; kind: Kind }[] = [];
  let n = 0;
  for (let i = 0; i < PER_KIND; i++) {
    for (const kind of ['missing-write', 'duplicate-write'] as const) {
      const key = `${prefix}-${n++}`;
      const reply = await demo.changeShop(key, i % 2 === 0, kind === 'missing-write' ? 'drop-write' : 'deliver-twice');
      if (reply.status !== 200) throw new Error(`change ${key}: ${reply.status} ${reply.body}`);
      changes.push({ key, kind });
    }
  }
  // Each finding, as soon as it is visible: three concurrent clicks, then wait for the verdict.
  const findingOf = (c: { key: string; kind: Kind }): Promise<FindingView> =>
    until(`${c.kind} of ${c.key}`, async () => (await json<{ findings: FindingView[] }>(`/api/v1/findings?rule=${c.kind}&limit=10000`)).findings.find((f) => f.entity?.key === c.key));
  const repair = async (c: { key: string; kind: Kind }, finding: FindingView) => {
    const seenAt = Date.now();
    const answers = await Promise.all([click(finding.id), click(finding.id), click(finding.id)]);
    const clickMs = Date.now() - seenAt;
    const ids = new Set(answers.map((a) => a.remedy?.id));
    if (ids.size !== 1 || answers[0]!.remedy === undefined) throw new Error(`clicks on ${finding.id} answered ${JSON.stringify(answers)}`);
    const id = answers[0]!.remedy.id;
    const done = await until(`remedy ${id}`, async () => {
      const r = (await json<{ remedy: RemedyView }>(`/api/v1/remedies/${encodeURIComponent(id)}`)).remedy;
      return ['verified', 'failed', 'expired', 'superseded'].includes(r.state) ? r : undefined;
    });
    return { kind: c.kind, id, state: done.state, reason: done.reason, ms: Date.now() - seenAt, clickMs };
  };
  // Every first-phase change is found (its redelivery, if any, done) before consumers stop.
  const firstPhase = await Promise.all(changes.map(async (c) => ({ c, finding: await findingOf(c) })));
  const firstRepairs = Promise.all(firstPhase.map(({ c, finding }) => repair(c, finding)));
  // Lost messages: nobody consumes, the queue is purged, consumers come back.
  for (const w of demo.workers) await w.setConsuming(false);
  const lost: string[] = [];
  for (let i = 0; i < PER_KIND; i++) {
    const key = `${prefix}-${n++}`;
    await demo.changeShop(key, true);
    lost.push(key);
  }
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  const channel = await connection.createChannel();
  await until('the lost messages on the queue', async () => ((await channel.checkQueue(`${prefix}.shop-changed`)).messageCount >= lost.length ? true : undefined));
  await channel.purgeQueue(`${prefix}.shop-changed`);
  await connection.close();
  for (const w of demo.workers) await w.setConsuming(true);

  const secondRepairs = Promise.all(lost.map(async (key) => {
    const c = { key, kind: 'not-consumed' as const };
    return repair(c, await findingOf(c));
  }));
  const results = [...(await firstRepairs), ...(await secondRepairs)];
  const deliveries = new Map<string, number>();
  for (const line of readFileSync(join(dir, 'remedies', 'audit.jsonl'), 'utf8').split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line) as { event: string; remedyId?: string };
    if (e.event === 'delivered' && e.remedyId !== undefined) deliveries.set(e.remedyId, (deliveries.get(e.remedyId) ?? 0) + 1);
  }
  const ranTwice = [...deliveries.values()].filter((c) => c > 1).length;
  // Where the time goes: the audit log's events of each remedy, as ms after its request.
  const events = new Map<string, Record<string, number>>();
  for (const line of readFileSync(join(dir, 'remedies', 'audit.jsonl'), 'utf8').split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line) as { event: string; atMs: number; remedyId?: string };
    if (e.remedyId === undefined) continue;
    const m = events.get(e.remedyId) ?? {};
    m[e.event] ??= e.atMs;
    events.set(e.remedyId, m);
  }
  const phase = (from: string, to: string): string => {
    const ms = [...events.values()].filter((m) => m[from] !== undefined && m[to] !== undefined).map((m) => m[to]! - m[from]!).sort((a, b) => a - b);
    return `${percentile(ms, 50)} / ${percentile(ms, 99)}`;
  };
  const clickMs = results.map((r) => r.clickMs).sort((a, b) => a - b);
  console.log(`p50 / p99 ms: seen -> clicks answered ${percentile(clickMs, 50)} / ${percentile(clickMs, 99)}, requested -> delivered ${phase('requested', 'delivered')}, delivered -> succeeded ${phase('delivered', 'succeeded')}, succeeded -> verified ${phase('succeeded', 'verified')}`);
  const share = (kind: Kind): number => {
    const of = results.filter((r) => r.kind === kind);
    return of.filter((r) => r.state === 'verified').length / of.length;
  };
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  console.log('| rule | findings | verified |');
  console.log('| --- | ---: | ---: |');
  for (const kind of ['missing-write', 'not-consumed', 'duplicate-write'] as const) {
    const of = results.filter((r) => r.kind === kind);
    console.log(`| ${kind} | ${of.length} | ${of.filter((r) => r.state === 'verified').length} |`);
  }
  for (const r of results.filter((x) => x.state !== 'verified')) console.log(`not verified: ${r.id} ${r.state}: ${r.reason ?? ''}`);
  console.log(`finding visible -> verified repair: p50 ${percentile(times, 50)} ms, p99 ${percentile(times, 99)} ms, max ${times.at(-1)} ms (check delay ${CHECK_DELAY_MS} ms)`);
  console.log(
    JSON.stringify({
      findings: results.length,
      missing_write_repaired: share('missing-write'),
      not_consumed_repaired: share('not-consumed'),
      duplicate_write_repaired: share('duplicate-write'),
      finding_to_verified_p50_ms: percentile(times, 50),
      finding_to_verified_p99_ms: percentile(times, 99),
      check_delay_ms: CHECK_DELAY_MS,
      target_ms: CHECK_DELAY_MS + 2000,
      remedies_run_twice: ranTwice,
      clicks_per_finding: 3,
    }),
  );
} finally {
  await demo.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
