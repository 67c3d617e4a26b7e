/**
 * bench:scale — the split roles of issue 14 on loopback, measured per role: a NATS cluster with
 * JetStream (3 nodes, streams replicated 3 times), ClickHouse with two shards, a collector, a chain
 * checker, and first one ingester, then two. The bench's realistic traces (ingest-traces.ts),
 * pre-encoded as OTLP export requests, are POSTed to the collector by concurrent exporters that
 * honour 429/503; a phase ends when ClickHouse holds every span. For each phase: spans/s end to
 * end, and CPU seconds per million spans (= µs per span) of every process — collector, ingesters,
 * checker, ClickHouse servers, NATS servers — read from /proc; then ClickHouse's bytes per span
 * (system.parts after merging). A table, then one JSON line.
 *
 * Environment: BENCH_SPANS (default 300 000, per phase), BENCH_CONCURRENCY (exporters, 4),
 * BENCH_NATS_NODES (3; 1 runs a single server and replicas 1), BENCH_SHARDS (ClickHouse shards, 2),
 * BENCH_PARTS (preparation threads), BENCH_CHECK_DELAY (the checker's, 5s).
 *
 * The machine this ran on has 2 cores shared with other work: spans/s is what these processes got
 * of it; the CPU figures per span are what sizing should use (docs/scaling.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseHttp } from '@linktrace/storage/clickhouse-testing';
import { startClickHouseShards, startNatsCluster, startRole, type ClickHouseShards, type NatsCluster, type RoleProcess } from '@linktrace/server/scale-testing';
import { AVERAGE_SPANS_PER_TRACE, prepareBatches } from './ingest-prepare.js';
import { Sender } from './ingest-sender.js';
import { envInt, printResult, printTable } from './stats.js';

const SPANS = envInt('BENCH_SPANS', 300_000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 4);
const NATS_NODES = envInt('BENCH_NATS_NODES', 3);
const SHARDS = envInt('BENCH_SHARDS', 2);
const PARTS = envInt('BENCH_PARTS', availableParallelism());
const CHECK_DELAY = process.env.BENCH_CHECK_DELAY ?? '5s';
const REPLICAS = String(Math.min(3, NATS_NODES));
/** Traffic covers the hour before the run (inside any retention). */
const WINDOW_US = 3_600_000_000;
/** Bounds on every wait: they tell a hang from a slow machine, nothing more. */
const STORE_WAIT_MS = 30 * 60_000;
const DRAIN_WAIT_MS = 10 * 60_000;
const PROGRESS_MS = 10_000;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface ConsumerDetail {
  name: string;
  num_pending: number;
  num_ack_pending: number;
  cluster?: { leader?: string };
}
interface Jsz {
  account_details?: { stream_detail?: { name: string; consumer_detail?: ConsumerDetail[] }[] }[];
}

/**
 * Messages not yet acknowledged by the consumers whose name starts with `prefix`. Each consumer is
 * read from the node leading it: a follower's copy of its state lags (it showed every message
 * pending after all were acknowledged). Undefined while some consumer's leader does not answer.
 */
async function backlog(nats: NatsCluster, prefix: string): Promise<number | undefined> {
  const views = new Map<string, ConsumerDetail[]>();
  for (const n of nats.nodes.filter((x) => x.running())) {
    try {
      const jsz = await n.monitor<Jsz>('/jsz?accounts=true&streams=true&consumers=true');
      views.set(n.name, (jsz.account_details ?? []).flatMap((a) => (a.stream_detail ?? []).flatMap((s) => s.consumer_detail ?? [])));
    } catch {
      // Its consumers are read from their leaders elsewhere, or not at all.
    }
  }
  const names = new Set([...views.values()].flat().filter((c) => c.name.startsWith(prefix)).map((c) => c.name));
  let sum = 0;
  for (const name of names) {
    const anyView = [...views.values()].flat().find((c) => c.name === name)!;
    // One node: no cluster, its own view is the state.
    const leader = anyView.cluster?.leader ?? [...views.keys()][0]!;
    const c = views.get(leader)?.find((x) => x.name === name);
    if (c === undefined) return undefined;
    sum += c.num_pending + c.num_ack_pending;
  }
  return sum;
}

/**
 * Span records in the store (`distinct`: each span once, as queries read them; a redelivered
 * message is stored twice until then and counted twice by `count()`). 0 before the tables exist.
 */
async function storedSpans(ch: ClickHouseShards, database: string, distinct = false): Promise<number> {
  const client = new ClickHouseHttp({ url: ch.servers[0]!.httpUrl }, database);
  try {
    return Number((await client.rows(distinct ? 'SELECT uniqExact(trace_key, span_id, start_us) FROM spans' : 'SELECT count() FROM spans'))[0]![0]);
  } catch {
    return 0;
  }
}

/** Bytes of the database's active parts over every shard, after merging what can be merged. */
async function storedBytes(ch: ClickHouseShards, database: string): Promise<Map<string, number>> {
  const byTable = new Map<string, number>();
  for (const s of ch.servers) {
    const client = new ClickHouseHttp({ url: s.httpUrl }, database);
    const tables = (await client.rows(`SELECT name FROM system.tables WHERE database = '${database}' AND engine LIKE '%MergeTree'`)).map((r) => String(r[0]));
    for (const t of tables) await client.command(`OPTIMIZE TABLE ${t} FINAL`);
    for (const [table, bytes] of await client.rows(`SELECT table, sum(bytes) FROM system.parts WHERE database = '${database}' AND active GROUP BY table`)) {
      byTable.set(String(table), (byTable.get(String(table)) ?? 0) + Number(bytes));
    }
  }
  return byTable;
}

interface Charged {
  label: string;
  cpu: () => Promise<number>;
}

async function snapshot(parties: Charged[]): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const p of parties) m.set(p.label, await p.cpu());
  return m;
}

interface PhaseResult {
  ingesters: number;
  spans: number;
  seconds: number;
  /** CPU µs per span by party, over the ingest window (and the checker's drain). */
  cpuUsPerSpan: Map<string, number>;
  throttled: number;
  unavailable: number;
  /** Messages the ingesters took, and how many of those were redeliveries (an acknowledgement came too late or never). */
  consumed: number;
  redelivered: number;
  bytes?: Map<string, number>;
}

async function main(): Promise<void> {
  // Processes' CPU comes from /proc.
  if (process.platform !== 'linux') throw new Error('bench:scale reads CPU time from /proc: Linux only');
  const nowUs = Date.now() * 1000;
  log(`bench:scale: preparing ${fmt(SPANS)} spans on ${PARTS} threads…`);
  const set = await prepareBatches(
    {
      spans: SPANS,
      seed: 20_261_207,
      startUs: nowUs - WINDOW_US,
      traceGapUs: (WINDOW_US * AVERAGE_SPANS_PER_TRACE) / SPANS,
      minBatch: 1000,
      maxBatch: 5000,
      jsonShare: 0,
      gzipShare: 0.5,
      maxBodyBytes: 4 * 1024 * 1024,
      samples: 1,
    },
    PARTS,
  );
  log(`bench:scale: ${fmt(set.spans)} spans in ${fmt(set.traces)} traces, ${set.bodies.length} OTLP requests`);

  const dir = mkdtempSync(join(tmpdir(), 'lt-bench-scale-'));
  let nats: NatsCluster | undefined;
  let ch: ClickHouseShards | undefined;
  const running: RoleProcess[] = [];
  const role = async (name: string, label: string, args: string[]): Promise<RoleProcess> => {
    const p = await startRole(name, ['--port', '0', ...args], { label });
    running.push(p);
    return p;
  };
  try {
    [nats, ch] = await Promise.all([
      startNatsCluster({ size: NATS_NODES, maxFileStore: 16 * 1024 ** 3 }),
      startClickHouseShards({ shards: SHARDS, cluster: 'lt_scale' }),
    ]);
    const natsFlags = ['--nats', nats.urls, '--replicas', REPLICAS, '--stream-max-bytes', '8gb'];
    const collector = await role('collector', 'collector', [...natsFlags, '--grpc-port', '0']);
    const results: PhaseResult[] = [];
    for (const ingesterCount of [1, 2]) {
      const database = `lt_scale_${ingesterCount}`;
      const storeFlags = ch.storeFlags(database);
      const ingesters: RoleProcess[] = [];
      for (let i = 0; i < ingesterCount; i++) ingesters.push(await role('ingester', `ingester#${i + 1}`, [...natsFlags, ...storeFlags]));
      const checker = await role('checker', 'checker', [...natsFlags, ...storeFlags, '--partition', '0/1', '--data', join(dir, `checker-${ingesterCount}`), '--check-delay', CHECK_DELAY]);
      const self = { label: 'load generator (this process)', cpu: () => Promise.resolve((process.cpuUsage().user + process.cpuUsage().system) / 1e6) };
      const parties: Charged[] = [
        { label: 'collector', cpu: () => collector.cpuSeconds() },
        { label: `ingesters (${ingesterCount})`, cpu: async () => (await Promise.all(ingesters.map((i) => i.cpuSeconds()))).reduce((a, b) => a + b, 0) },
        { label: 'checker', cpu: () => checker.cpuSeconds() },
        { label: `ClickHouse (${SHARDS} shards)`, cpu: () => ch!.cpuSeconds() },
        { label: `NATS (${NATS_NODES} nodes, R${REPLICAS})`, cpu: async () => (await Promise.all(nats!.nodes.map(async (n) => (await n.cpuSeconds()) ?? 0))).reduce((a, b) => a + b, 0) },
        self,
      ];
      const stored0 = await storedSpans(ch, database);
      const before = await snapshot(parties);
      const t0 = performance.now();
      log(`bench:scale: ${ingesterCount} ingester(s): sending…`);
      const sender = new Sender(collector.url!, CONCURRENCY);
      const progress = setInterval(() => {
        void storedSpans(ch!, database).then((n) => log(`  ${((performance.now() - t0) / 1000).toFixed(0)} s: acknowledged ${fmt(sender.acceptedSpans)}, stored ${fmt(n - stored0)}`));
      }, PROGRESS_MS);
      let seconds: number;
      try {
        await sender.run(set.bodies);
        if (sender.rejectedSpans > 0) throw new Error(`the collector refused ${sender.rejectedSpans} spans`);
        const deadline = Date.now() + STORE_WAIT_MS;
        // Cheap count() until it could be done, then the distinct count decides (each database is new: stored0 is 0).
        while ((await storedSpans(ch, database)) - stored0 < set.spans || (await storedSpans(ch, database, true)) < set.spans) {
          if (Date.now() > deadline) throw new Error(`ClickHouse holds ${await storedSpans(ch, database, true)} of ${set.spans} spans after ${STORE_WAIT_MS} ms`);
          await sleep(500);
        }
        seconds = (performance.now() - t0) / 1000;
      } finally {
        clearInterval(progress);
      }
      const stored = await snapshot(parties);
      log(`bench:scale: ${ingesterCount} ingester(s): all ${fmt(set.spans)} spans stored after ${seconds.toFixed(1)} s; waiting for the checker…`);
      // The checker: until its consumers have nothing pending and one check delay has passed (the last traces checked).
      const drainDeadline = Date.now() + DRAIN_WAIT_MS;
      while (((await backlog(nats, 'linktrace-checker')) ?? 1) > 0 && Date.now() < drainDeadline) await sleep(500);
      await sleep(Number.parseFloat(CHECK_DELAY) * 1000 + 3000);
      const after = new Map(stored).set('checker', await checker.cpuSeconds());
      const cpuUsPerSpan = new Map<string, number>();
      for (const p of parties) cpuUsPerSpan.set(p.label, ((after.get(p.label)! - before.get(p.label)!) * 1e6) / set.spans);
      let consumed = 0;
      let redelivered = 0;
      for (const i of ingesters) {
        const text = await (await fetch(`${i.url}/metrics`)).text();
        consumed += metric(text, 'linktrace_nats_consumed_messages_total');
        redelivered += metric(text, 'linktrace_nats_redelivered_messages_total');
      }
      const result: PhaseResult = { ingesters: ingesterCount, spans: set.spans, seconds, cpuUsPerSpan, throttled: sender.throttled, unavailable: sender.unavailable, consumed, redelivered };
      if (ingesterCount === 1) {
        log('bench:scale: merging parts (OPTIMIZE … FINAL) for bytes per span…');
        result.bytes = await storedBytes(ch, database);
      }
      results.push(result);
      log(`bench:scale: ${ingesterCount} ingester(s): ${fmt(set.spans / seconds)} spans/s`);
      for (const i of ingesters) await i.stop();
      await checker.stop();
    }

    // Report.
    const [one, two] = results as [PhaseResult, PhaseResult];
    const labels = [...one.cpuUsPerSpan.keys()];
    console.log(`bench:scale — ${fmt(set.spans)} spans per phase (${fmt(set.traces)} traces), ${CONCURRENCY} exporters, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
    console.log('');
    printTable(
      ['process', 'CPU µs/span, 1 ingester', 'CPU µs/span, 2 ingesters'],
      [...labels.map((l, i) => [l.replace(/\(\d+\)/, '(n)'), one.cpuUsPerSpan.get(l)!, [...two.cpuUsPerSpan.values()][i]!] as [string, number, number])],
    );
    console.log('');
    printTable(
      ['phase', 'spans/s', 'seconds', '429s', '503s', 'messages consumed', 'of them redelivered'],
      results.map((r) => [`${r.ingesters} ingester(s)`, r.spans / r.seconds, r.seconds, r.throttled, r.unavailable, r.consumed, r.redelivered]),
    );
    const bytes = one.bytes!;
    const totalBytes = [...bytes.values()].reduce((a, b) => a + b, 0);
    console.log('');
    printTable(['ClickHouse table (all shards)', 'bytes/span'], [...[...bytes].sort((a, b) => b[1] - a[1]).map(([t, b]) => [t, b / one.spans] as [string, number]), ['all', totalBytes / one.spans]]);
    const get = (r: PhaseResult, prefix: string): number => [...r.cpuUsPerSpan].find(([l]) => l.startsWith(prefix))![1];
    printResult({
      collector_cpu_us_per_span: round(get(one, 'collector')),
      ingester_cpu_us_per_span: round(get(one, 'ingesters')),
      clickhouse_bytes_per_span: round(totalBytes / one.spans),
      spans_per_s_1_ingester: Math.round(one.spans / one.seconds),
      spans_per_s_2_ingesters: Math.round(two.spans / two.seconds),
      checker_cpu_us_per_span: round(get(one, 'checker')),
      clickhouse_cpu_us_per_span: round(get(one, 'ClickHouse')),
      nats_cpu_us_per_span: round(get(one, 'NATS')),
      ingester_cpu_us_per_span_2_ingesters: round(get(two, 'ingesters')),
      redelivered_share_1_ingester: Math.round((1000 * one.redelivered) / Math.max(1, one.consumed)) / 1000,
      spans: set.spans,
      nats_nodes: NATS_NODES,
      clickhouse_shards: SHARDS,
    });
  } finally {
    for (const p of running) await p.kill();
    await nats?.stop();
    await ch?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sum of a Prometheus counter's samples (every label set) in /metrics text. */
function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

main().catch((err: unknown) => {
  log(`bench:scale failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
