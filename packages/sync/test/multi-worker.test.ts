/**
 * Several worker processes on RabbitMQ, Redis and PostgreSQL (issue 17 item 6): a storm of duplicate
 * triggers yields exactly one write per entity version; a worker killed mid-sync leaves the entity
 * to be synced again, never half-written; a lock lost mid-run abandons the run; the chain checks
 * find nothing on healthy runs and the injected faults on unhealthy ones.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { checkTrace, type Finding } from '@linktrace/analysis';
import { ATTR, type Span } from '@linktrace/model';
import { CollectingSpanProcessor, createTracing } from '@linktrace/sdk';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { amqpQueue, createDispatcher, SKIP, type WorkQueue } from '../src/index.js';
import { createTables, dropTables, pgJob } from './pg-job.js';
import { dropKeys, pgPool, prefix, redisClient, SERVICES } from './services.js';

const WORKER = fileURLToPath(new URL('./worker-process.js', import.meta.url));
const ENTITIES = 120;
const DUPLICATES = 8;

interface Worker {
  name: string;
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

function alive(w: Worker): boolean {
  return w.child.exitCode === null && w.child.signalCode === null;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

describe('several worker processes on RabbitMQ, Redis and PostgreSQL', () => {
  const p = prefix();
  const dir = mkdtempSync(join(tmpdir(), 'lt-sync-'));
  const collector = new CollectingSpanProcessor();
  const tracing = createTracing({ service: 'account-api', processors: [collector], startRecords: true });
  let pool: pg.Pool;
  let redis: Redis;
  let connection: amqp.ChannelModel;
  let queue: WorkQueue;
  const workers: Worker[] = [];
  const dispatcher = () => createDispatcher({ job: pgJob(pool, p, 'api'), queue, tracing });

  const spawnWorker = async (name: string, env: Record<string, string> = {}): Promise<Worker> => {
    const child = spawn(process.execPath, [WORKER], {
      env: { ...process.env, LT_SYNC_PREFIX: p, LT_SYNC_WORKER: name, LT_SYNC_SPANS: join(dir, `${name}.jsonl`), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const w: Worker = { name, child, out: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (w.out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (w.out += c));
    workers.push(w);
    await waitFor(`${name} ready`, () => (w.out.includes('ready') ? true : w.child.exitCode !== null ? assert.fail(`${name} exited: ${w.out}`) : undefined), 60_000);
    return w;
  };

  const writes = async (): Promise<{ target: string; key: string; version: number; n: number }[]> =>
    (await pool.query<{ target: string; key: string; version: number; n: number }>(`SELECT target, key, version, count(*)::int AS n FROM ${p}_writes GROUP BY 1, 2, 3 ORDER BY 2, 1, 3`)).rows;

  /** Every span the processes reported (the workers' files and this process), by trace. */
  const traces = (): Map<string, Span[]> => {
    const all: Span[] = [...collector.spans, ...collector.startRecords];
    for (const f of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        if (line === '') continue;
        const span = JSON.parse(line) as Span;
        if (typeof span.attributes !== 'object') assert.fail(`not a span in ${f}: ${line}`);
        all.push(span);
      }
    }
    const byTrace = new Map<string, Span[]>();
    for (const s of all) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
    return byTrace;
  };
  /** Every span of every trace ended, and each trace's last delivery settled for good (no retry pending). */
  const settled = (except: readonly string[] = []): boolean =>
    [...traces().values()].every((t) => {
      if (except.includes(keyOf(t))) return true;
      const ended = new Set(t.filter((s) => s.durationUs !== undefined).map((s) => s.spanId));
      if (t.some((s) => !ended.has(s.spanId))) return false;
      const consumes = t.filter((s) => s.attributes[ATTR.stage] === 'consume' && s.durationUs !== undefined);
      return consumes.length > 0 && consumes.some((c) => c.attributes['linktrace.sync.retry_in_ms'] === undefined);
    });
  /** Only `only` consumes: the others stop consuming (their unacked messages go back to the queue). */
  const consumeOnly = async (only: Worker): Promise<() => Promise<void>> => {
    const others = workers.filter((w) => w !== only && alive(w));
    for (const w of others) {
      const before = w.out.split('stopped-consuming').length;
      w.child.kill('SIGUSR1');
      await waitFor(`${w.name} stops consuming`, () => (w.out.split('stopped-consuming').length > before ? true : undefined));
    }
    return async () => {
      for (const w of others) if (alive(w)) w.child.kill('SIGUSR2');
      await delay(200);
    };
  };
  const check = (spans: Span[]): Finding[] => checkTrace(spans, { deadlineMs: 60_000 }, Date.now() * 1000 + 61_000_000);
  const keyOf = (spans: Span[]): string => String(spans.find((s) => s.attributes[ATTR.entityKey] !== undefined)?.attributes[ATTR.entityKey]);

  before(async () => {
    pool = pgPool();
    redis = await redisClient();
    connection = await amqp.connect(SERVICES.amqp);
    queue = await amqpQueue({ connection, queue: `${p}.sync`, durable: false });
    await createTables(pool, p);
    await spawnWorker('w1');
    await spawnWorker('w2');
    await spawnWorker('w3', { LT_SYNC_LOCKS: 'redis' });
  });

  after(async () => {
    for (const w of workers) if (alive(w)) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await queue?.close();
    const ch = await connection?.createChannel();
    await ch?.deleteQueue(`${p}.sync`).catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await dropTables(pool, p).catch(() => undefined);
    await dropKeys(redis, p).catch(() => undefined);
    redis?.disconnect();
    await pool?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a storm of duplicate triggers: exactly one write per entity version and target; healthy traces check clean', async () => {
    const d = dispatcher();
    const values = Array.from({ length: ENTITIES }, (_, i) => `('e${i}', 1, 'v1-${i}')`).join(',');
    await pool.query(`INSERT INTO ${p}_source (key, version, data) VALUES ${values}`);
    const storm: Promise<void>[] = [];
    for (let r = 0; r < DUPLICATES; r++) for (let i = 0; i < ENTITIES; i++) storm.push(d.trigger(`e${(i * 7 + r) % ENTITIES}`, { reason: 'demand' }));
    await Promise.all(storm);
    // Half the entities change while the storm is in flight: events announce version 2.
    await pool.query(`UPDATE ${p}_source SET version = 2, data = 'v2-' || key WHERE substr(key, 2)::int % 2 = 0`);
    for (let i = 0; i < ENTITIES; i += 2) for (let r = 0; r < 3; r++) await d.trigger(`e${i}`, { version: 2 });
    const want = ENTITIES * 2 + (ENTITIES / 2) * 2;
    const rows = await waitFor('every entity version at both targets', async () => {
      const w = await writes();
      const a = (await pool.query(`SELECT count(*)::int AS n FROM ${p}_a a JOIN ${p}_source s USING (key) WHERE a.version = s.version`)).rows[0] as { n: number };
      const b = (await pool.query(`SELECT count(*)::int AS n FROM ${p}_b b JOIN ${p}_source s USING (key) WHERE b.version = s.version`)).rows[0] as { n: number };
      return a.n === ENTITIES && b.n === ENTITIES ? w : undefined;
    });
    assert.deepEqual(rows.filter((r) => r.n !== 1), [], 'no entity version written twice to a target');
    // Version 1 of a changed entity may never be written (the source had moved on): that is fine; v2 must be.
    assert.ok(rows.length >= ENTITIES * 2 && rows.length <= want, `${rows.length} writes`);
    await waitFor('every trigger handled for good', () => (settled() ? true : undefined));
    const found = [...traces().values()].flatMap(check);
    assert.deepEqual(found.map((f) => `${f.rule} ${f.service} ${f.message}`), [], 'healthy runs: no finding');
    const skips = [...traces().values()].flat().filter((s) => s.attributes[ATTR.stage] === 'skip').map((s) => s.attributes[ATTR.skipReason]);
    assert.ok(skips.some((r) => r === SKIP.recentlySynced || r === SKIP.alreadySynced || r === SKIP.upToDate), 'duplicates were skipped');
  });

  it('a worker killed mid-sync (one target written, the other not): the entity is synced again by another worker, never half-written', async () => {
    const victim = await spawnWorker('victim', { LT_SYNC_PAUSE_KEY: 'killed' });
    // Only the victim consumes for now, so it gets the trigger.
    const resume = await consumeOnly(victim);
    try {
      await pool.query(`INSERT INTO ${p}_source (key, version, data) VALUES ('killed', 1, 'whole')`);
      await dispatcher().trigger('killed', { version: 1 });
      await waitFor('the victim stalls before writing target b', () => (victim.out.includes('paused killed') ? true : undefined));
    } finally {
      victim.child.kill('SIGKILL');
      await victim.exited;
      await resume();
    }
    const half = await pool.query(`SELECT (SELECT count(*)::int FROM ${p}_a WHERE key = 'killed') AS a, (SELECT count(*)::int FROM ${p}_b WHERE key = 'killed') AS b`);
    assert.deepEqual(half.rows[0], { a: 1, b: 0 }, 'killed between the two targets');
    await waitFor('target b written by another worker', async () => ((await pool.query(`SELECT 1 FROM ${p}_b WHERE key = 'killed'`)).rowCount === 1 ? true : undefined));
    const w = (await writes()).filter((r) => r.key === 'killed');
    assert.deepEqual(
      w.map((r) => `${r.target} v${r.version} ×${r.n}`),
      ['a v1 ×1', 'b v1 ×1'],
    );
    const rows = await pool.query(`SELECT version, data FROM ${p}_a WHERE key = 'killed' UNION ALL SELECT version, data FROM ${p}_b WHERE key = 'killed'`);
    assert.deepEqual(rows.rows, [{ version: 1, data: 'whole' }, { version: 1, data: 'whole' }], 'each target holds the whole record');
    // The trace shows the dead hop as started and never ended, and then the redelivery that finished the job.
    const spans = await waitFor('the redelivery settled', () =>
      [...traces().values()].find(
        (t) => keyOf(t) === 'killed' && t.some((s) => s.attributes[ATTR.stage] === 'consume' && s.durationUs !== undefined && s.attributes['linktrace.sync.retry_in_ms'] === undefined),
      ),
    );
    const open = spans.filter((s) => s.durationUs === undefined && !spans.some((e) => e.spanId === s.spanId && e.durationUs !== undefined));
    assert.ok(open.some((s) => s.attributes[ATTR.stage] === 'write'), 'the write in progress at the kill is a start record with no end');
    assert.deepEqual([...new Set(check(spans).map((f) => `${f.rule} ${f.service}`))], ['unfinished-span sync-worker']);
  });

  it('a lock lost mid-run is detected: the run is abandoned before writing and retried; one write per target', async () => {
    const thief = await spawnWorker('thief', { LT_SYNC_STEAL_KEY: 'stolen' });
    const resume = await consumeOnly(thief);
    try {
      await pool.query(`INSERT INTO ${p}_source (key, version, data) VALUES ('stolen', 1, 'x')`);
      await dispatcher().trigger('stolen', { version: 1 });
      await waitFor('written after the loss', async () => ((await pool.query(`SELECT 1 FROM ${p}_b WHERE key = 'stolen'`)).rowCount === 1 ? true : undefined));
    } finally {
      await resume();
    }
    assert.deepEqual((await writes()).filter((r) => r.key === 'stolen').map((r) => `${r.target} ×${r.n}`), ['a ×1', 'b ×1']);
    await waitFor('the retries settled', () => (settled(['killed']) ? true : undefined));
    const spans = [...traces().values()].find((t) => keyOf(t) === 'stolen')!;
    const reasons = spans.filter((s) => s.attributes[ATTR.stage] === 'skip').map((s) => s.attributes[ATTR.skipReason]);
    assert.ok(reasons.includes(SKIP.lockLost), `skips: ${reasons.join(', ')}`);
    assert.deepEqual(check(spans), [], 'an abandoned run is a skip, and the retry wrote it: nothing to report');
  });

  it('injected faults are found by the chain checks: drop-write → missing-write, crash → unfinished-span', async () => {
    const d = dispatcher();
    await pool.query(`INSERT INTO ${p}_source (key, version, data) VALUES ('dropped', 1, 'x'), ('crashed', 1, 'x')`);
    await d.trigger('dropped', { version: 1, meta: { fault: 'drop-write' } });
    await d.trigger('crashed', { version: 1, meta: { fault: 'crash' } });
    const byKey = await waitFor('both faulty runs reported', () => {
      const t = [...traces().values()];
      const dropped = t.find((s) => keyOf(s) === 'dropped' && s.some((x) => x.attributes[ATTR.stage] === 'receive' && x.durationUs !== undefined));
      const crashed = t.find((s) => keyOf(s) === 'crashed' && s.some((x) => x.attributes[ATTR.stage] === 'process'));
      return dropped && crashed ? { dropped, crashed } : undefined;
    });
    assert.deepEqual(check(byKey.dropped).map((f) => `${f.rule} ${f.service}`), ['missing-write sync-worker']);
    const crash = check(byKey.crashed);
    assert.deepEqual(crash.map((f) => `${f.rule} ${f.service}`), ['unfinished-span sync-worker']);
    assert.equal(byKey.crashed.find((s) => s.spanId === crash[0]!.spanId)?.attributes[ATTR.stage], 'process');
  });
});
