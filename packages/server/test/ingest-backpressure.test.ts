import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { buildApp } from '../src/app.js';
import { segmentPath } from '../src/wal/segment-files.js';
import { errorCode, get, post, tempDir, withApp } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

const JSON_TYPE = { 'content-type': 'application/json' };

function batch(trace: number, count: number): { traceId: string; body: string; spans: Span[] } {
  const traceId = (0x5000 + trace).toString(16).padStart(32, '0');
  const spans: Span[] = [];
  for (let i = 0; i < count; i++) {
    spans.push({
      traceId,
      spanId: (0x100 + i).toString(16).padStart(16, '0'),
      service: 'svc',
      name: 'op',
      kind: 'internal',
      startUs: 1_700_000_000_000_000 + i,
      durationUs: 5,
      status: { code: 'unset' },
      attributes: { i },
      events: [],
      links: [],
    });
  }
  return { traceId, body: JSON.stringify(encodeNativeJson(spans)), spans };
}

/** A gate the test opens: store writes wait on it, like a store that has fallen behind. */
function gated(store: MemoryStore): () => void {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  store.gate = () => opened;
  return () => {
    store.gate = undefined;
    open();
  };
}

describe('backpressure', () => {
  it('past the backlog bound ingest answers 429 overloaded with Retry-After; every 2xx batch is stored', async () => {
    const store = new MemoryStore();
    const release = gated(store);
    await withApp({ store, pipeline: { maxBacklogSpans: 100, retryAfterSeconds: 3 } }, async ({ app, url }) => {
      const accepted: string[] = [];
      for (let t = 0; t < 3; t++) {
        const b = batch(t, 30);
        assert.equal((await post(`${url}/api/v1/spans`, b.body, JSON_TYPE)).status, 200);
        accepted.push(b.traceId);
      }
      assert.equal(app.linktrace.pipeline.backlogSpans, 90);
      const refused = await post(`${url}/api/v1/spans`, batch(99, 30).body, JSON_TYPE);
      assert.equal(refused.status, 429);
      assert.equal(errorCode(refused), 'overloaded');
      assert.equal(refused.headers.get('retry-after'), '3');
      // Each receiver refuses the same way.
      const otlp = await post(`${url}/v1/traces`, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000000001000"}]}]}]}', JSON_TYPE);
      assert.equal(otlp.status, 200, 'a batch that fits (91 of 100) is still taken');
      const health = (await get(`${url}/healthz`)).json() as { wal: { backlogSpans: number } };
      assert.equal(health.wal.backlogSpans, 91);

      release();
      await app.linktrace.pipeline.idle();
      assert.equal(app.linktrace.pipeline.backlogSpans, 0);
      for (const traceId of accepted) assert.equal(store.getTrace(traceId).length, 30, `trace ${traceId} stored`);
      assert.equal(store.getTrace(batch(99, 1).traceId).length, 0, 'the refused batch is not stored');
      assert.equal((await post(`${url}/api/v1/spans`, batch(99, 30).body, JSON_TYPE)).status, 200, 'accepted again once drained');
      await app.linktrace.pipeline.idle();
      const metrics = (await get(`${url}/metrics`)).body.toString();
      assert.match(metrics, /linktrace_spans_rejected_total\{receiver="native",reason="overloaded"\} 30/);
      assert.match(metrics, /linktrace_http_errors_total\{code="overloaded"\} 1/);
    });
  });

  it('a failing store: acknowledged spans wait in the log, health says so, and nothing is lost once it recovers', async () => {
    const store = new MemoryStore();
    store.failure = new Error('disk unplugged');
    await withApp({ store, pipeline: { maxBacklogSpans: 50 } }, async ({ app, url }) => {
      assert.equal((await post(`${url}/api/v1/spans`, batch(1, 40).body, JSON_TYPE)).status, 200);
      const full = await post(`${url}/api/v1/spans`, batch(2, 20).body, JSON_TYPE);
      assert.equal(full.status, 429);
      // The loop retries with backoff; health reports the store as unreachable meanwhile.
      const deadline = Date.now() + 5000;
      while (app.linktrace.pipeline.storeError === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const health = await get(`${url}/healthz`);
      assert.equal(health.status, 503);
      const body = health.json() as { status: string; store: { reachable: boolean; error?: string } };
      assert.equal(body.status, 'unavailable');
      assert.equal(body.store.reachable, false);
      assert.match(body.store.error ?? '', /disk unplugged/);
      store.failure = undefined;
      await app.linktrace.pipeline.idle();
      assert.equal(store.getTrace(batch(1, 1).traceId).length, 40);
      assert.equal((await get(`${url}/healthz`)).status, 200);
    });
  });

  it('closing with the store still down keeps the backlog in the log; the next start stores it', async () => {
    const dataDir = await tempDir();
    try {
      const down = new MemoryStore();
      down.failure = new Error('store down');
      await withApp({ store: down, dataDir, shutdownTimeoutMs: 300 }, async ({ url }) => {
        for (let t = 0; t < 5; t++) assert.equal((await post(`${url}/api/v1/spans`, batch(t, 10).body, JSON_TYPE)).status, 200);
      });
      assert.equal(down.spans.size, 0);

      const fresh = new MemoryStore();
      const app = await buildApp({ store: fresh, dataDir });
      try {
        assert.equal(app.linktrace.recovery.records, 5);
        assert.equal(app.linktrace.recovery.spans, 50);
        for (let t = 0; t < 5; t++) assert.equal(fresh.getTrace(batch(t, 1).traceId).length, 10);
      } finally {
        await app.close();
      }
      // Stored on recovery: a third start replays nothing.
      const third = await buildApp({ store: new MemoryStore(), dataDir });
      try {
        assert.equal(third.linktrace.recovery.records, 0);
      } finally {
        await third.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('spans keep their arrival time: live writes are marked with their request\'s, a replay after a crash with its log record\'s', async () => {
    const dataDir = await tempDir();
    const DAY_MS = 86_400_000;
    let nowMs = 1_796_083_200_000;
    const clock = (): number => nowMs;
    try {
      const live = new MemoryStore();
      await withApp({ store: live, dataDir, clock }, async ({ url }) => {
        assert.equal((await post(`${url}/api/v1/spans`, batch(0, 3).body, JSON_TYPE)).status, 200);
        nowMs += 1000;
        assert.equal((await post(`${url}/api/v1/spans`, batch(1, 3).body, JSON_TYPE)).status, 200);
      });
      assert.deepStrictEqual(new Set(live.arrivals), new Set([(nowMs - 1000) * 1000, nowMs * 1000]));

      const down = new MemoryStore();
      down.failure = new Error('store down');
      const acceptedMs = (nowMs += DAY_MS);
      await withApp({ store: down, dataDir, clock, shutdownTimeoutMs: 300 }, async ({ url }) => {
        assert.equal((await post(`${url}/api/v1/spans`, batch(2, 4).body, JSON_TYPE)).status, 200);
        nowMs += 1000;
        assert.equal((await post(`${url}/api/v1/spans`, batch(3, 4).body, JSON_TYPE)).status, 200);
      });
      // Restarted three days later: the replayed spans arrived when they were accepted, not now.
      nowMs += 3 * DAY_MS;
      const fresh = new MemoryStore();
      const app = await buildApp({ store: fresh, dataDir, clock });
      try {
        assert.equal(app.linktrace.recovery.spans, 8);
        assert.deepStrictEqual(fresh.arrivals, [acceptedMs * 1000], 'one replay batch, marked with its earliest record');
      } finally {
        await app.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('closing waits until the backlog is in the store, and answers 503 unavailable meanwhile', async () => {
    const dataDir = await tempDir();
    try {
      const store = new MemoryStore();
      const release = gated(store);
      const app = await buildApp({ store, dataDir });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      for (let t = 0; t < 3; t++) assert.equal((await post(`${url}/api/v1/spans`, batch(t, 10).body, JSON_TYPE)).status, 200);
      const closed = app.close();
      let done = false;
      void closed.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(done, false, 'close waits for the store');
      assert.equal(app.linktrace.pipeline.accepting, false);
      await assert.rejects(app.linktrace.pipeline.accept(4, Buffer.from('{}'), batch(9, 1).spans), /shutting down/);
      release();
      await closed;
      for (let t = 0; t < 3; t++) assert.equal(store.getTrace(batch(t, 1).traceId).length, 10);
      const next = await buildApp({ store: new MemoryStore(), dataDir });
      assert.equal(next.linktrace.recovery.records, 0, 'nothing left to replay');
      await next.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('writes finishing out of order are confirmed to the log in order', async () => {
    const dataDir = await tempDir();
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    try {
      const store = new MemoryStore();
      let calls = 0;
      store.gate = () => (++calls === 1 ? firstHeld : Promise.resolve());
      await withApp({ store, dataDir, pipeline: { storeBatchSpans: 10, storeConcurrency: 2 }, shutdownTimeoutMs: 200 }, async ({ app, url }) => {
        assert.equal((await post(`${url}/api/v1/spans`, batch(1, 10).body, JSON_TYPE)).status, 200);
        assert.equal((await post(`${url}/api/v1/spans`, batch(2, 10).body, JSON_TYPE)).status, 200);
        const deadline = Date.now() + 5000;
        while (store.getTrace(batch(2, 1).traceId).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        assert.equal(store.getTrace(batch(2, 1).traceId).length, 10, 'the second write finished first');
        assert.equal(store.getTrace(batch(1, 1).traceId).length, 0);
        assert.equal(app.linktrace.wal.stats().unconfirmed, 2, 'nothing is confirmed past the unfinished first write');
        assert.equal(app.linktrace.pipeline.backlogSpans, 20);
      });
      // Closed while the first write hung: both records are replayed on the next start.
      const fresh = new MemoryStore();
      const next = await buildApp({ store: fresh, dataDir });
      try {
        assert.equal(next.linktrace.recovery.records, 2);
        assert.equal(fresh.getTrace(batch(1, 1).traceId).length, 10);
      } finally {
        await next.close();
      }
    } finally {
      releaseFirst();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a write-ahead log that cannot be written (no space): 507 insufficient_storage, nothing acknowledged, and the next segment recovers', async () => {
    // The next segment file is a link to /dev/full: every write to it fails with ENOSPC, as on a full disk.
    await withApp({ wal: { segmentBytes: 64 } }, async ({ app, store, url, dataDir }) => {
      assert.equal((await post(`${url}/api/v1/spans`, batch(1, 3).body, JSON_TYPE)).status, 200);
      await symlink('/dev/full', segmentPath(join(dataDir, 'wal'), 2));
      const refused = await post(`${url}/api/v1/spans`, batch(2, 3).body, JSON_TYPE);
      assert.equal(refused.status, 507);
      assert.equal(errorCode(refused), 'insufficient_storage');
      assert.match((refused.json() as { error: { message: string } }).error.message, /ENOSPC/);
      assert.equal(refused.headers.get('retry-after'), '1');
      // Queries still work: degraded (200), not down, with the reason.
      const health = await get(`${url}/healthz`);
      assert.equal(health.status, 200);
      const body = health.json() as { status: string; reason?: string; readOnly?: string; wal: { error?: string } };
      assert.equal(body.status, 'degraded');
      assert.match(body.reason ?? '', /^ingest is refused \(507 insufficient_storage\) for want of disk space; queries work: .*ENOSPC/);
      assert.match(body.readOnly ?? '', /ENOSPC/);
      assert.match(body.wal.error ?? '', /ENOSPC/);

      assert.equal((await post(`${url}/api/v1/spans`, batch(3, 3).body, JSON_TYPE)).status, 200, 'a fresh segment takes the next request');
      await app.linktrace.pipeline.idle();
      assert.equal(((await get(`${url}/healthz`)).json() as { status: string }).status, 'ok');
      assert.equal(store.getTrace(batch(1, 1).traceId).length, 3);
      assert.equal(store.getTrace(batch(2, 1).traceId).length, 0, 'the refused batch was not stored');
      assert.equal(store.getTrace(batch(3, 1).traceId).length, 3);
      assert.match((await get(`${url}/metrics`)).body.toString(), /linktrace_http_errors_total\{code="insufficient_storage"\} 1/);
    });
  });

  it('started read-only (no room to write): /healthz answers 200 degraded with the reason, not 503 (queries work)', async () => {
    const dataDir = await tempDir();
    try {
      const noSpace = Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
      const app = await buildApp({ store: new MemoryStore(), dataDir, readOnly: noSpace });
      try {
        const res = await app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(res.statusCode, 200, res.body);
        const body = JSON.parse(res.body) as { status: string; reason?: string; readOnly?: string; store: { reachable: boolean } };
        assert.equal(body.status, 'degraded');
        assert.match(body.reason ?? '', /^ingest is refused \(507 insufficient_storage\) for want of disk space; queries work: .*started read-only: ENOSPC/);
        assert.match(body.readOnly ?? '', /started read-only/);
        assert.equal(body.store.reachable, true);
        const refused = await app.inject({ method: 'POST', url: '/api/v1/spans', payload: batch(1, 1).body, headers: JSON_TYPE });
        assert.equal(refused.statusCode, 507);
      } finally {
        await app.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refused means freed: spans of requests the log refused leave the backlog at once, even behind a stuck store write', async () => {
    const store = new MemoryStore();
    const release = gated(store);
    await withApp({ store, wal: { segmentBytes: 64 } }, async ({ app, url, dataDir }) => {
      assert.equal((await post(`${url}/api/v1/spans`, batch(1, 3).body, JSON_TYPE)).status, 200);
      // The store holds batch 1; every later segment is /dev/full, so each append fails as on a full disk.
      for (let id = 2; id <= 12; id++) await symlink('/dev/full', segmentPath(join(dataDir, 'wal'), id));
      for (let trace = 2; trace <= 6; trace++) {
        assert.equal((await post(`${url}/api/v1/spans`, batch(trace, 3).body, JSON_TYPE)).status, 507);
      }
      assert.equal(app.linktrace.pipeline.backlogSpans, 3, 'only the acknowledged batch waits for the store');
      assert.match(app.linktrace.pipeline.readOnlyReason ?? '', /ENOSPC/);
      release();
      await app.linktrace.pipeline.idle();
      assert.equal(app.linktrace.pipeline.backlogSpans, 0);
      assert.equal(store.getTrace(batch(1, 1).traceId).length, 3);
    });
  });

  it('a store that refuses malformed spans drops only them (counted), and the pipeline moves on', async () => {
    const store = new MemoryStore();
    const bad = 'ffffffffffffffff';
    const original = store.writeSpans.bind(store);
    // Like StorageInputError: the whole write is refused when any span is bad.
    store.writeSpans = async (spans) => {
      if (spans.some((s) => s.spanId === bad)) {
        const error = new Error('invalid span');
        error.name = 'StorageInputError';
        throw error;
      }
      await original(spans);
    };
    await withApp({ store }, async ({ app, url }) => {
      const b = batch(7, 8);
      const spans = b.spans.map((s, i) => (i === 3 ? { ...s, spanId: bad } : s));
      assert.equal((await post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(spans)), JSON_TYPE)).status, 200);
      await app.linktrace.pipeline.idle();
      assert.equal(store.getTrace(b.traceId).length, 7);
      assert.match((await get(`${url}/metrics`)).body.toString(), /linktrace_spans_dropped_total\{reason="store_rejected"\} 1/);
    });
  });
});
