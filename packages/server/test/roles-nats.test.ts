/**
 * The split roles over a real NATS JetStream (nats-server started per test on a free port) and a
 * real embedded store (one per test, shared by the roles of the test in this process: an embedded
 * store belongs to one process). Collector → ingester → query end to end; 2xx only once JetStream
 * holds the spans; a redelivered batch shows once; undecodable messages parked and counted, never
 * blocking; two checkers each checking their own partitions, every fault found exactly once; NATS
 * down at start (503 + healthz, then up); NATS stopped mid-stream (503, then nothing lost).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import type { SpanStore } from '@linktrace/storage';
import { openStore } from '../src/cli/open-store.js';
import { startRole } from '../src/roles/run-role.js';
import { startChecker, type RunningChecker } from '../src/roles/checker-role.js';
import type { RunningRole, RoleStart } from '../src/roles/running-role.js';
import { DEAD_STREAM, HEADER, SPANS_STREAM, spansSubject } from '../src/roles/jetstream-names.js';
import { encodeSpanMessage } from '../src/roles/span-message.js';
import { partitionOf } from '../src/roles/partitions.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { ID, manualClock, newTraceId, shopSync, without } from './checker-traces.js';
import { metricValue, natsClient, roleOptions, startLocalNats, unusedNatsUrl, until, type LocalNats } from './roles-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const quiet: RoleStart = { warn: process.env.ROLES_VERBOSE === undefined ? () => {} : (l) => process.stderr.write(`${l}\n`), print: () => {} };

/** What a test started, closed after it (roles first, then the store, then NATS). */
class World {
  roles: RunningRole[] = [];
  stores: SpanStore[] = [];
  nats: LocalNats[] = [];
  clients: NatsConnection[] = [];
  dirs: string[] = [];

  async store(): Promise<SpanStore> {
    const dir = await tempDir('linktrace-roles-store-');
    this.dirs.push(dir);
    const store = await openStore('duckdb', dir, { clock: Date.now });
    this.stores.push(store);
    return store;
  }

  async role(role: RunningRole | Promise<RunningRole>): Promise<RunningRole> {
    const r = await role;
    this.roles.push(r);
    return r;
  }

  async close(): Promise<void> {
    for (const r of this.roles.reverse()) await r.close();
    for (const c of this.clients) await c.close();
    for (const s of this.stores) await s.close();
    for (const n of this.nats) await n.destroy();
    for (const d of this.dirs) await rm(d, { recursive: true, force: true });
  }
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const w = new World();
  try {
    await fn(w);
  } finally {
    await w.close();
  }
}

const postSpans = (url: string, spans: Span[]) => post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(spans)), JSON_TYPE);

async function traceSpanCount(url: string, traceId: string): Promise<number> {
  const res = await get(`${url}/api/v1/traces/${traceId}`);
  if (res.status === 404) return 0;
  assert.equal(res.status, 200, res.body.toString());
  return (res.json() as { spans: unknown[] }).spans.length;
}

async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(stream)).state.messages;
}

describe('split roles over NATS JetStream', { timeout: 300_000 }, () => {
  it('collector → ingester → query: 2xx only once JetStream holds the spans, then they are queryable', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '4' }), quiet));
      await until('the collector to reach NATS', async () => ((await get(`${collector.url}/healthz`)).status === 200 ? true : undefined));
      const traces = Array.from({ length: 6 }, () => shopSync(newTraceId()));
      const all = traces.flat();
      const res = await postSpans(collector.url, all);
      assert.equal(res.status, 200, res.body.toString());
      // Acknowledged means in the stream: one message per partition the batch touched, no ingester running yet.
      const nc = await natsClient(nats.url);
      w.clients.push(nc);
      const touched = new Set(traces.map((t) => partitionOf(t[0]!.traceId, 4))).size;
      assert.equal(await streamMessages(nc, SPANS_STREAM), touched);
      const metrics = (await get(`${collector.url}/metrics`)).body.toString();
      assert.equal(metricValue(metrics, 'linktrace_nats_published_messages_total'), touched);

      await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused' }), { ...quiet, store }));
      const query = await w.role(startRole(roleOptions('query', { store: 'unused' }), { ...quiet, store }));
      for (const t of traces) {
        const id = t[0]!.traceId;
        await until(`trace ${id} through the query role`, async () => ((await traceSpanCount(query.url, id)) === t.length ? true : undefined));
      }
      // The query role has no receivers.
      assert.equal((await postSpans(query.url, all)).status, 404);
      assert.equal((await get(`${query.url}/healthz`)).status, 200);
    }));

  it('stores a redelivered batch once: the ingester wrote it, its acknowledgement was lost, JetStream delivered it again', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      // The first write reaches the store, then fails as an ack lost on the way would: the batch is not acknowledged.
      let failures = 1;
      const flaky = new Proxy(store, {
        get(target, key, receiver) {
          if (key !== 'writeSpans') return Reflect.get(target, key, receiver) as unknown;
          return async (spans: readonly Span[], options?: { arrivedUs?: number }) => {
            await target.writeSpans(spans, options);
            if (failures-- > 0) throw new Error('connection reset after the write');
          };
        },
      });
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '2' }), quiet));
      await until('the collector to reach NATS', async () => ((await get(`${collector.url}/healthz`)).status === 200 ? true : undefined));
      const trace = shopSync(newTraceId());
      assert.equal((await postSpans(collector.url, trace)).status, 200);
      // The sender retried too (say its 2xx was lost): the same spans twice in the stream.
      assert.equal((await postSpans(collector.url, trace)).status, 200);
      const ingester = await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused' }), { ...quiet, store: flaky }));
      const id = trace[0]!.traceId;
      await until('the redelivery to be stored', async () => {
        const m = (await get(`${ingester.url}/metrics`)).body.toString();
        return metricValue(m, 'linktrace_nats_redelivered_messages_total', { role: 'ingester' }) >= 1 &&
          metricValue(m, 'linktrace_nats_consumed_messages_total', { role: 'ingester' }) === 2
          ? true
          : undefined;
      }, 60_000);
      assert.equal(failures, -1, 'the write failed once and was retried');
      // Written three times, read once: by id, in search summaries, and in the dependency counts.
      assert.equal((await store.getTrace(id)).length, trace.length);
      const [hit] = await store.findTraces({ service: 'merchant-api' });
      assert.equal(hit!.spanCount, trace.length);
      const once = await store.dependencies(0, Number.MAX_SAFE_INTEGER);
      const single = await (async () => {
        const other = await w.store();
        await other.writeSpans(trace);
        return other.dependencies(0, Number.MAX_SAFE_INTEGER);
      })();
      assert.deepEqual(once, single);
      const health = (await get(`${ingester.url}/healthz`)).json() as { status: string };
      assert.equal(health.status, 'ok');
    }));

  it('parks undecodable messages on the dead-letter stream, counts them, and stores what follows', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      const ingester = await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused', partitions: '2' }), { ...quiet, store }));
      await until('the ingester to reach NATS', async () => ((await get(`${ingester.url}/healthz`)).status === 200 ? true : undefined));
      const nc = await natsClient(nats.url);
      w.clients.push(nc);
      const js = nc.jetstream();
      await js.publish(spansSubject(0), Buffer.from('not a linktrace message'));
      const wrongJson = natsHeaders();
      wrongJson.set(HEADER.format, 'native-json/1');
      await js.publish(spansSubject(1), Buffer.from('{"spans": [{"traceId": 12}'), { headers: wrongJson });
      const badSpans = natsHeaders();
      badSpans.set(HEADER.format, 'native-json/1');
      const native = encodeNativeJson(shopSync(newTraceId()));
      const damaged = { ...native, spans: native.spans.map((s) => ({ ...s, spanId: 'zz' })) };
      await js.publish(spansSubject(0), Buffer.from(JSON.stringify(damaged)), { headers: badSpans });
      const good = shopSync(newTraceId());
      const message = encodeSpanMessage(good, Date.now() * 1000);
      await js.publish(spansSubject(partitionOf(good[0]!.traceId, 2)), message.data, { headers: message.headers });
      await until('the good message behind them to be stored', async () => ((await store.getTrace(good[0]!.traceId)).length === good.length ? true : undefined));
      const metrics = (await get(`${ingester.url}/metrics`)).body.toString();
      assert.equal(metricValue(metrics, 'linktrace_nats_dead_letters_total', { role: 'ingester', reason: 'unknown_format' }), 1);
      assert.equal(metricValue(metrics, 'linktrace_nats_dead_letters_total', { role: 'ingester', reason: 'bad_payload' }), 1);
      assert.equal(metricValue(metrics, 'linktrace_nats_dead_letters_total', { role: 'ingester', reason: 'bad_spans' }), 1);
      // Parked with the reason and the origin, and acknowledged on the spans stream.
      assert.equal(await streamMessages(nc, DEAD_STREAM), 3);
      const jsm = await nc.jetstreamManager();
      const parked = await jsm.streams.getMessage(DEAD_STREAM, { seq: 1 });
      assert.equal(Buffer.from(parked.data).toString(), 'not a linktrace message');
      assert.match(parked.header.get(HEADER.deadReason), /^unknown_format/);
      assert.equal(parked.header.get(HEADER.deadSubject), spansSubject(0));
      const consumer = await until('every message acknowledged', async () => {
        const info = await jsm.consumers.info(SPANS_STREAM, 'linktrace-ingester');
        return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
      });
      assert.equal(consumer.delivered.stream_seq, 4);
    }));

  it('a failing store: the batch is not acknowledged, /healthz says why, it is stored once the store is back; spans the store refuses as malformed are parked', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      let down = true;
      const refusedTrace = newTraceId();
      const failing = new Proxy(store, {
        get(target, key, receiver) {
          if (key !== 'writeSpans') return Reflect.get(target, key, receiver) as unknown;
          return async (spans: readonly Span[], options?: { arrivedUs?: number }) => {
            if (down) throw new Error('ClickHouse at http://ch1:8123 is unreachable');
            if (spans.some((s) => s.traceId === refusedTrace)) throw Object.assign(new Error('span 0: duration is negative'), { name: 'StorageInputError' });
            await target.writeSpans(spans, options);
          };
        },
      });
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '2' }), quiet));
      const ingester = await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused', partitions: '2' }), { ...quiet, store: failing }));
      await until('the roles to reach NATS', async () => ((await get(`${collector.url}/healthz`)).status === 200 ? true : undefined));
      const kept = shopSync(newTraceId());
      assert.equal((await postSpans(collector.url, kept)).status, 200);
      const health = await until('the ingester to report the store', async () => {
        const res = await get(`${ingester.url}/healthz`);
        return res.status === 503 ? (res.json() as { reason: string; store: { error: string } }) : undefined;
      });
      assert.match(health.store.error, /the store failed: ClickHouse at http:\/\/ch1:8123 is unreachable/);
      assert.match(health.reason, /^store: /);
      const nc = await natsClient(nats.url);
      w.clients.push(nc);
      const info = await (await nc.jetstreamManager()).consumers.info(SPANS_STREAM, 'linktrace-ingester');
      assert.equal(info.num_pending + info.num_ack_pending, 1, 'not acknowledged while the store fails');
      down = false;
      assert.equal((await postSpans(collector.url, shopSync(refusedTrace))).status, 200);
      await until('the batch stored once the store is back', async () => ((await store.getTrace(kept[0]!.traceId)).length === kept.length ? true : undefined), 60_000);
      await until('the malformed one parked', async () => {
        const m = (await get(`${ingester.url}/metrics`)).body.toString();
        return metricValue(m, 'linktrace_nats_dead_letters_total', { role: 'ingester', reason: 'store_refused' }) === 1 ? true : undefined;
      });
      assert.equal((await store.getTrace(refusedTrace)).length, 0);
      assert.equal(await streamMessages(nc, DEAD_STREAM), 1);
      await until('the ingester healthy again', async () => ((await get(`${ingester.url}/healthz`)).status === 200 ? true : undefined));
    }));

  it('two checkers: each owns its partitions, and each faulty trace gets exactly one finding', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      const clock = manualClock();
      const start: RoleStart = { ...quiet, store, clock: clock.now };
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '8' }), { ...quiet, clock: clock.now }));
      await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused', partitions: '8' }), start));
      const checkers: RunningChecker[] = [];
      for (const share of ['0/2', '1/2']) {
        const data = await tempDir('linktrace-checker-');
        w.dirs.push(data);
        const c = await startChecker(roleOptions('checker', { nats: nats.url, store: 'unused', partition: share, partitions: '8', data, checkDelay: '5s' }), start);
        w.roles.push(c);
        checkers.push(c);
      }
      await until('both checkers to own partitions', () => Promise.resolve(checkers.every((c) => c.partitions() !== undefined) ? true : undefined));
      assert.deepEqual(checkers.map((c) => c.partitions()), [[0, 2, 4, 6], [1, 3, 5, 7]]);
      // 24 traces over the 8 partitions; every other one lost shop-query's write (one missing-write each).
      const faulty = new Set<string>();
      const batch: Span[] = [];
      for (let i = 0; i < 24; i++) {
        const id = newTraceId();
        const spans = shopSync(id, 1000, clock.now());
        if (i % 2 === 0) {
          faulty.add(id);
          batch.push(...without(spans, ID.queryWrite));
        } else batch.push(...spans);
      }
      assert.equal((await postSpans(collector.url, batch)).status, 200);
      const partitionsHit = new Set([...batch].map((s) => partitionOf(s.traceId, 8)));
      await until('both checkers to take every message', async () => {
        let consumed = 0;
        for (const c of checkers) consumed += metricValue((await get(`${c.url}/metrics`)).body.toString(), 'linktrace_nats_consumed_messages_total', { role: 'checker' });
        return consumed === partitionsHit.size ? true : undefined;
      });
      await until('the spans to be stored', async () => ((await store.findTraces({ limit: 100 })).length === 24 ? true : undefined));
      clock.advance(10_000);
      for (const c of checkers) await c.checkNow();
      const findings = await store.findFindings({ limit: 1000 });
      assert.deepEqual(findings.map((f) => f.rule), findings.map(() => 'missing-write'));
      assert.deepEqual(new Set(findings.map((f) => f.traceId)), faulty);
      assert.equal(findings.length, faulty.size, 'one finding per faulty trace, none twice');
      // Each checker checked only its own traces, and together all of them.
      const checked = await Promise.all(
        checkers.map(async (c) => ((await c.health()).checker as { checkedTraces: number }).checkedTraces),
      );
      const expected = checkers.map((c) => batch.filter((s, k) => batch.findIndex((o) => o.traceId === s.traceId) === k && c.partitions()!.includes(partitionOf(s.traceId, 8))).length);
      assert.deepEqual(checked, expected);
      assert.equal(checked[0]! + checked[1]!, 24);
    }));

  it('a checker stopped after taking a trace but before checking it: the restarted one checks the whole trace, the fault once, no finding from the half stored', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      const clock = manualClock();
      const start: RoleStart = { ...quiet, store, clock: clock.now };
      const data = await tempDir('linktrace-checker-');
      w.dirs.push(data);
      const checkerOptions = roleOptions('checker', { nats: nats.url, store: 'unused', partition: '0/1', partitions: '1', data, checkDelay: '5s' });
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '1' }), { ...quiet, clock: clock.now }));
      const first = await startChecker(checkerOptions, start);
      await until('the checker to own its partition', () => Promise.resolve(first.partitions() !== undefined ? true : undefined));
      const faultyId = newTraceId();
      const faulty = without(shopSync(faultyId, 1000, clock.now()), ID.queryWrite);
      const healthy = shopSync(newTraceId(), 1000, clock.now());
      assert.equal((await postSpans(collector.url, [...faulty, ...healthy])).status, 200);
      await until('the checker to take the message', async () =>
        metricValue((await get(`${first.url}/metrics`)).body.toString(), 'linktrace_nats_consumed_messages_total', { role: 'checker' }) === 1 ? true : undefined);
      // Not checked yet (the check delay has not passed), so not acknowledged.
      const nc = await natsClient(nats.url);
      w.clients.push(nc);
      const jsm = await nc.jetstreamManager();
      assert.equal((await jsm.consumers.info(SPANS_STREAM, 'linktrace-checker-0')).num_ack_pending, 1);
      await first.close();
      // The ingester died after storing half of each trace: the restart's store read sees half traces.
      await store.writeSpans([...faulty.slice(0, Math.ceil(faulty.length / 2)), ...healthy.slice(0, Math.ceil(healthy.length / 2))]);
      const second = (await w.role(startChecker(checkerOptions, start))) as RunningChecker;
      await until('the message redelivered to the restarted checker', async () =>
        metricValue((await get(`${second.url}/metrics`)).body.toString(), 'linktrace_nats_redelivered_messages_total', { role: 'checker' }) === 1 ? true : undefined);
      clock.advance(10_000);
      await second.checkNow();
      const findings = await store.findFindings({ limit: 1000 });
      assert.deepEqual(findings.map((f) => [f.traceId, f.rule]), [[faultyId, 'missing-write']]);
      await until('the message acknowledged once checked', async () => {
        const info = await jsm.consumers.info(SPANS_STREAM, 'linktrace-checker-0');
        return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
      });
    }));

  it('a full stream (ingesters behind) answers 429 stream_full with Retry-After until an ingester drains it', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '1', streamMaxBytes: '32kb' }), quiet));
      await until('the collector to reach NATS', async () => ((await get(`${collector.url}/healthz`)).status === 200 ? true : undefined));
      const accepted: string[] = [];
      let full: Awaited<ReturnType<typeof postSpans>> | undefined;
      for (let i = 0; i < 200 && full === undefined; i++) {
        const spans = shopSync(newTraceId());
        const res = await postSpans(collector.url, spans);
        if (res.status === 200) accepted.push(spans[0]!.traceId);
        else full = res;
      }
      assert.ok(full !== undefined, 'the stream filled up');
      assert.equal(full.status, 429, full.body.toString());
      assert.equal((full.json() as { error: { code: string } }).error.code, 'stream_full');
      assert.equal(full.headers.get('retry-after'), '1');
      assert.ok(accepted.length > 0);
      const metrics = (await get(`${collector.url}/metrics`)).body.toString();
      assert.equal(metricValue(metrics, 'linktrace_nats_publish_failures_total', { reason: 'stream_full' }), 1);
      // An ingester stores what was acknowledged; acknowledged messages leave the stream, which takes spans again.
      await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused' }), { ...quiet, store }));
      for (const id of accepted) await until(`trace ${id} stored`, async () => ((await store.getTrace(id)).length > 0 ? true : undefined));
      const nc = await natsClient(nats.url);
      w.clients.push(nc);
      await until('the stream to drain', async () => ((await streamMessages(nc, SPANS_STREAM)) === 0 ? true : undefined));
      assert.equal((await postSpans(collector.url, shopSync(newTraceId()))).status, 200);
    }));

  it('NATS down at start: the collector answers 503 and /healthz says why, then works once NATS is up', () =>
    withWorld(async (w) => {
      const { port, url } = await unusedNatsUrl();
      const collector = await w.role(startRole(roleOptions('collector', { nats: url }), quiet));
      const health = await get(`${collector.url}/healthz`);
      assert.equal(health.status, 503);
      const body = health.json() as { status: string; reason: string; nats: { connected: boolean; error: string } };
      assert.equal(body.nats.connected, false);
      assert.match(body.reason, new RegExp(`nats: .*127\\.0\\.0\\.1:${port}`));
      const refused = await postSpans(collector.url, shopSync(newTraceId()));
      assert.equal(refused.status, 503);
      assert.equal((refused.json() as { error: { code: string } }).error.code, 'broker_unavailable');
      assert.equal(refused.headers.get('retry-after'), '1');
      const nats = await startLocalNats(port);
      w.nats.push(nats);
      await until('the collector to connect (retry with backoff)', async () => ((await get(`${collector.url}/healthz`)).status === 200 ? true : undefined), 60_000);
      assert.equal((await postSpans(collector.url, shopSync(newTraceId()))).status, 200);
    }));

  it('NATS stopped mid-stream: the collector answers 503 until it is back, and every acknowledged span is stored once', () =>
    withWorld(async (w) => {
      const nats = await startLocalNats();
      w.nats.push(nats);
      const store = await w.store();
      const collector = await w.role(startRole(roleOptions('collector', { nats: nats.url, partitions: '4', publishTimeout: '2s' }), quiet));
      const ingester = await w.role(startRole(roleOptions('ingester', { nats: nats.url, store: 'unused', partitions: '4' }), { ...quiet, store }));
      await until('the roles to reach NATS', async () => ((await get(`${collector.url}/healthz`)).status === 200 && (await get(`${ingester.url}/healthz`)).status === 200 ? true : undefined));
      const acknowledged = new Map<string, number>();
      let refusals = 0;
      const send = async (): Promise<boolean> => {
        const spans = shopSync(newTraceId());
        const res = await postSpans(collector.url, spans);
        if (res.status === 200) {
          acknowledged.set(spans[0]!.traceId, spans.length);
          return true;
        }
        assert.equal(res.status, 503, res.body.toString());
        assert.equal((res.json() as { error: { code: string } }).error.code, 'broker_unavailable');
        refusals++;
        return false;
      };
      for (let i = 0; i < 10; i++) assert.ok(await send());
      await nats.stop();
      // Refused while NATS is away (bounded: at most 20 tries).
      for (let i = 0; i < 20 && refusals === 0; i++) await send();
      assert.ok(refusals > 0, 'a request was refused while NATS was down');
      const down = (await get(`${collector.url}/healthz`)).json() as { status: string; nats: { connected: boolean } };
      assert.equal(down.nats.connected, false);
      await nats.start();
      await until('the collector to reconnect', async () => ((await get(`${collector.url}/healthz`)).status === 200 ? true : undefined), 60_000);
      for (let i = 0; i < 10; i++) assert.ok(await send());
      for (const [id, count] of acknowledged) {
        await until(`acknowledged trace ${id} to be stored`, async () => ((await store.getTrace(id)).length === count ? true : undefined), 60_000);
      }
      const stored = await store.findTraces({ limit: 1000 });
      for (const hit of stored) if (acknowledged.has(hit.traceId)) assert.equal(hit.spanCount, acknowledged.get(hit.traceId));
    }));
});
