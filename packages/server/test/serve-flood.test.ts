/**
 * Load: a flood from many concurrent clients (loopback, bounded in time and count) against the real
 * server. The backlog never passes its bound (the excess is refused with 429 + Retry-After), the
 * server's resident memory stays within a fixed growth, and every batch that got a 2xx is stored.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { encodeOtlpProto, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { get, tempDir } from './ingest-helpers.js';
import { exitWithin, startServe, type ServerProcess } from './serve-helpers.js';

const MAX_BACKLOG = 20_000;
const CLIENTS = 24;
const SPANS_PER_BATCH = 500;
const FLOOD_MS = 4000;
const MAX_BATCHES = 1500;
/** Resident memory the server may add during the flood (decoded backlog, requests in flight, store caches). */
const MAX_RSS_GROWTH_MB = 250;

function batch(traceId: string): Uint8Array {
  const now = Date.now() * 1000;
  const spans: Span[] = [];
  for (let i = 0; i < SPANS_PER_BATCH; i++) {
    spans.push({
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      service: `svc-${i % 8}`,
      name: `op-${i % 16}`,
      kind: 'server',
      startUs: now + i,
      durationUs: 50,
      status: { code: 'unset' },
      attributes: { 'http.method': 'POST', 'http.route': '/orders/:id', 'http.status_code': 201, tenant: `t${i % 4}`, n: i },
      events: [],
      links: [],
    });
  }
  return encodeOtlpProto(spans);
}

async function rssBytes(url: string): Promise<number> {
  const text = (await get(`${url}/metrics`)).body.toString();
  const m = /^linktrace_process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  if (m === null) throw new Error('no linktrace_process_resident_memory_bytes on /metrics');
  return Number(m[1]);
}

describe('flood', () => {
  it('memory stays bounded under a flood, the backlog never passes its bound, and every 2xx batch is stored', async () => {
    const dataDir = await tempDir();
    const prefix = randomBytes(6).toString('hex');
    let server: ServerProcess | undefined;
    try {
      server = await startServe(['--data', dataDir, '--max-backlog', String(MAX_BACKLOG)]);
      const url = server.url;
      // Warm up (first store writes, JIT), then take the baseline.
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${url}/v1/traces`, { method: 'POST', body: batch(`${prefix}ffff${i.toString(16).padStart(16, '0')}`), headers: { 'content-type': 'application/x-protobuf' } });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      const baseline = await rssBytes(url);

      // Bodies are made before the flood, so that the clients only send.
      const traceIds = Array.from({ length: MAX_BATCHES }, (_, k) => `${prefix}${k.toString(16).padStart(20, '0')}`);
      const bodies = traceIds.map(batch);
      const acked: string[] = [];
      let refused = 0;
      let retryAfterMissing = 0;
      let other = 0;
      let started = 0;
      const deadline = Date.now() + FLOOD_MS;
      const client = async (): Promise<void> => {
        while (Date.now() < deadline && started < MAX_BATCHES) {
          const k = started++;
          const traceId = traceIds[k];
          const res = await fetch(`${url}/v1/traces`, { method: 'POST', body: bodies[k], headers: { 'content-type': 'application/x-protobuf' } });
          await res.arrayBuffer();
          if (res.status === 200) acked.push(traceId);
          else if (res.status === 429) {
            refused++;
            if (res.headers.get('retry-after') === null) retryAfterMissing++;
          } else other++;
        }
      };
      let peakRss = baseline;
      let peakBacklog = 0;
      let flooding = true;
      const sampler = (async () => {
        while (flooding) {
          const health = (await get(`${url}/healthz`)).json() as { wal: { backlogSpans: number } };
          peakBacklog = Math.max(peakBacklog, health.wal.backlogSpans);
          peakRss = Math.max(peakRss, await rssBytes(url));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await Promise.all(Array.from({ length: CLIENTS }, () => client()));
      flooding = false;
      await sampler;
      peakRss = Math.max(peakRss, await rssBytes(url));

      const growthMb = (peakRss - baseline) / 1024 / 1024;
      console.log(
        `flood: ${started} batches of ${SPANS_PER_BATCH} in ${FLOOD_MS} ms from ${CLIENTS} clients; ${acked.length} accepted, ${refused} refused (429), ` +
          `${other} other; peak backlog ${peakBacklog} spans; RSS ${(baseline / 1048576).toFixed(0)} MB -> peak ${(peakRss / 1048576).toFixed(0)} MB`,
      );
      assert.equal(other, 0, 'only 200 or 429');
      assert.equal(retryAfterMissing, 0, 'every 429 carries Retry-After');
      assert.ok(peakBacklog <= MAX_BACKLOG, `backlog peaked at ${peakBacklog}`);
      assert.ok(growthMb < MAX_RSS_GROWTH_MB, `RSS grew ${growthMb.toFixed(0)} MB`);
      assert.ok(acked.length > 0);

      server.child.kill('SIGTERM');
      const exit = await exitWithin(server, 60_000);
      assert.equal(exit.code, 0, server.stderr());
      const store = await openEmbeddedStore({ dataDir });
      try {
        const traces = await store.getTraces(acked);
        const incomplete = acked.filter((_, i) => traces[i].length !== SPANS_PER_BATCH);
        assert.deepEqual(incomplete, [], `${incomplete.length} of ${acked.length} accepted batches incomplete`);
      } finally {
        await store.close();
      }
    } finally {
      server?.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
