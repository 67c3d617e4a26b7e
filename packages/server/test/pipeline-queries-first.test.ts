/**
 * Queries first (pipeline/queries-first.ts): while a query is under way the pipeline's background
 * steps wait for it, at most a bounded pause each; stored spans reach the checker and RED metrics in
 * slices, with turns of the event loop in between. No timing: pauses run out when the test says so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { DEFAULT_LIMITS, DEFAULT_PIPELINE } from '../src/config.js';
import { receive } from '../src/ingest/receive.js';
import { RefusalLog } from '../src/ingest/refusal-log.js';
import { WIRE_FORMAT } from '../src/ingest/wire-format.js';
import { ServerMetrics } from '../src/metrics.js';
import { FEED_SLICE_SPANS, IngestPipeline } from '../src/pipeline/ingest-pipeline.js';
import { QueriesFirst } from '../src/pipeline/queries-first.js';
import { isWalTag } from '../src/pipeline/replay-wal.js';
import { WriteAheadLog } from '../src/wal/write-ahead-log.js';
import { get, post, tempDir, withApp } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

/** Whether `p` has settled by the next turn of the event loop (an already settled promise has). */
async function settled(p: Promise<unknown> | undefined): Promise<boolean> {
  let done = false;
  void Promise.resolve(p).then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** Several turns of the event loop: long enough for anything not waiting on the test to happen. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A pause timer the test runs out by hand. */
function manualTimer(): { after: (ms: number) => Promise<void>; runOut: () => void; started: number[] } {
  const pending: (() => void)[] = [];
  const started: number[] = [];
  return {
    after: (ms) => {
      started.push(ms);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    runOut: () => {
      for (const resolve of pending.splice(0)) resolve();
    },
    started,
  };
}

function spans(count: number, trace = 1): Span[] {
  const traceId = trace.toString(16).padStart(32, '0');
  return Array.from({ length: count }, (_, i) => ({
    traceId,
    spanId: (i + 1).toString(16).padStart(16, '0'),
    service: 'svc',
    name: 'op',
    kind: 'internal' as const,
    startUs: 1_700_000_000_000_000 + i,
    durationUs: 5,
    status: { code: 'unset' as const },
    attributes: {},
    events: [],
    links: [],
  }));
}

async function withPipeline(
  queries: QueriesFirst | undefined,
  fn: (p: { pipeline: IngestPipeline; store: MemoryStore; fed: number[]; accept: (s: Span[]) => Promise<void> }) => Promise<void>,
  onFed?: () => void,
): Promise<void> {
  const dir = await tempDir();
  const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 24, isValidTag: isWalTag });
  const store = new MemoryStore();
  const fed: number[] = [];
  const pipeline = new IngestPipeline(store, wal, DEFAULT_PIPELINE, undefined, (s) => {
    fed.push(s.length);
    onFed?.();
  }, undefined, Date.now, queries);
  pipeline.start();
  const accept = (s: Span[]): Promise<void> => pipeline.accept(WIRE_FORMAT.nativeJson, Buffer.from(JSON.stringify(encodeNativeJson(s))), s);
  try {
    await fn({ pipeline, store, fed, accept });
  } finally {
    await pipeline.stop(10_000);
    await wal.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('queries first', () => {
  it('QueriesFirst: no wait without a query; with one, until it ends or the pause runs out', async () => {
    const timer = manualTimer();
    const q = new QueriesFirst({ maxPauseMs: 250, after: timer.after });
    assert.equal(q.yieldToQueries(), undefined, 'no query: nothing to wait for');
    assert.equal(timer.started.length, 0);

    const end = q.begin();
    assert.equal(q.queries, 1);
    const waiting = q.yieldToQueries();
    assert.deepEqual(timer.started, [250], 'the pause is bounded by maxPauseMs');
    assert.equal(await settled(waiting), false, 'waits while the query is under way');
    end();
    end(); // a second call is ignored
    assert.equal(q.queries, 0);
    assert.equal(await settled(waiting), true, 'the query ended: the step goes on');

    const endLong = q.begin();
    const bounded = q.yieldToQueries();
    assert.equal(await settled(bounded), false);
    timer.runOut();
    assert.equal(await settled(bounded), true, 'a query that never ends holds a step for one pause at most');
    assert.equal(q.pauses, 2);
    endLong();

    const off = new QueriesFirst({ maxPauseMs: 0, after: timer.after });
    off.begin();
    assert.equal(await settled(off.yieldToQueries()), true, 'maxPauseMs 0: never waits');
  });

  it('the pipeline starts no store write while a query is under way, and writes once it ends', async () => {
    const q = new QueriesFirst({ maxPauseMs: 250, after: manualTimer().after });
    await withPipeline(q, async ({ pipeline, store, accept }) => {
      const end = q.begin();
      await accept(spans(300));
      await turns();
      assert.equal(store.writes, 0, 'the write waits for the query');
      assert.equal(pipeline.backlogSpans, 300, 'the acknowledged spans wait in the backlog');
      end();
      await pipeline.idle();
      assert.equal(store.spans.size, 300);
      assert.equal(pipeline.backlogSpans, 0);
    });
  });

  it("a receiver decodes a request's body only once the query under way ends", async () => {
    const q = new QueriesFirst({ maxPauseMs: 250, after: manualTimer().after });
    await withPipeline(q, async ({ pipeline }) => {
      const metrics = new ServerMetrics({ backlogSpans: () => pipeline.backlogSpans, walBytes: () => 0, walSegments: () => 0 });
      const ctx = { limits: DEFAULT_LIMITS, pipeline, metrics, refusals: new RefusalLog(() => undefined) };
      const request = { body: Buffer.from(JSON.stringify(encodeNativeJson(spans(40)))), headers: {} };
      const end = q.begin();
      const received = receive(ctx, 'native', WIRE_FORMAT.nativeJson, request);
      await turns();
      assert.equal(await settled(received), false);
      assert.equal(pipeline.backlogSpans, 0, 'not decoded (nor queued) while the query is under way');
      end();
      assert.equal((await received).accepted, 40);
    });
  });

  it('a query that never ends holds the pipeline one pause per step, and the writes are small', async () => {
    const timer = manualTimer();
    const q = new QueriesFirst({ maxPauseMs: 250, after: timer.after });
    await withPipeline(q, async ({ pipeline, store, accept }) => {
      q.begin();
      // Three requests of FEED_SLICE_SPANS spans: one write of them all without queries.
      for (let t = 0; t < 3; t++) await accept(spans(FEED_SLICE_SPANS, t + 1));
      await turns();
      assert.equal(store.writes, 0);
      let steps = 0;
      while (pipeline.backlogSpans > 0 && steps++ < 50) {
        timer.runOut();
        await turns();
      }
      assert.equal(pipeline.backlogSpans, 0, 'every span reached the store while the query went on');
      assert.equal(store.spans.size, 3 * FEED_SLICE_SPANS);
      assert.equal(store.writes, 3, 'one request per write while queries run');
    });
  });

  it('stored spans reach onStored in slices, with turns of the event loop between them', async () => {
    let ticks = 0;
    const ticksAtFeed: number[] = [];
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    await withPipeline(
      undefined,
      async ({ pipeline, fed, accept }) => {
        await accept(spans(2 * FEED_SLICE_SPANS + 100));
        setImmediate(tick);
        await pipeline.idle();
        ticking = false;
        assert.deepEqual(fed, [FEED_SLICE_SPANS, FEED_SLICE_SPANS, 100]);
        for (let i = 1; i < ticksAtFeed.length; i++) assert.ok(ticksAtFeed[i]! > ticksAtFeed[i - 1]!, `the event loop turned between slice ${i} and ${i + 1}`);
      },
      () => ticksAtFeed.push(ticks),
    );
  });

  it('a GET under /api/ counts as a query until it is answered; ingest, /healthz and /metrics do not', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => (arrived = resolve));
    await withApp(
      {
        extraRoutes: (scope) => {
          scope.get('/api/v1/slow', async () => {
            arrived();
            await held;
            return { ok: true };
          });
        },
      },
      async ({ app, url }) => {
        const queries = app.linktrace.queries;
        const answer = get(`${url}/api/v1/slow`);
        await inHandler;
        assert.equal(queries.queries, 1, 'the GET is under way');
        assert.equal((await get(`${url}/healthz`)).status, 200);
        assert.equal((await get(`${url}/metrics`)).status, 200);
        const body = JSON.stringify(encodeNativeJson(spans(3)));
        assert.equal((await post(`${url}/api/v1/spans`, body, { 'content-type': 'application/json' })).status, 200, 'ingest goes on (after at most a pause)');
        assert.equal(queries.queries, 1, 'only the GET under /api/ counted');
        release();
        assert.equal((await answer).status, 200);
        await turns();
        assert.equal(queries.queries, 0, 'answered: no longer under way');
      },
    );
  });
});
