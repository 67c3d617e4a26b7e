/**
 * Durability: a 2xx means the spans are on disk. The real server is SIGKILLed in the middle of a
 * concurrent ingest, restarted on the same data dir, and every span whose request got a 2xx is found
 * through the store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { encodeNativeJson, encodeOtlpProto, encodeZipkinJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { tempDir } from './ingest-helpers.js';
import { exitWithin, startServe, type ServerProcess } from './serve-helpers.js';

const WORKERS = 6;
const SPANS_PER_BATCH = 100;
/** The kill comes once this many batches are acknowledged (or after KILL_AFTER_MS). */
const KILL_AFTER_BATCHES = 60;
const KILL_AFTER_MS = 4000;

function makeBatch(traceId: string, n: number): Span[] {
  const now = Date.now() * 1000;
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    spans.push({
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: i === 0 ? undefined : '0000000000000001',
      service: `svc-${i % 5}`,
      name: `op-${i % 7}`,
      kind: i === 0 ? 'server' : 'client',
      startUs: now + i,
      durationUs: 100 + i,
      status: { code: i % 13 === 0 ? 'error' : 'unset' },
      attributes: { 'http.method': 'GET', n: i, ok: i % 2 === 0 },
      events: [],
      links: [],
    });
  }
  for (const s of spans) if (s.parentSpanId === undefined) delete s.parentSpanId;
  return spans;
}

/** The same batch as one of the wire formats, rotating through them. */
function request(url: string, spans: Span[], k: number): { url: string; body: Uint8Array | string; headers: Record<string, string> } {
  switch (k % 4) {
    case 0:
      return { url: `${url}/api/v1/spans`, body: JSON.stringify(encodeNativeJson(spans)), headers: { 'content-type': 'application/json' } };
    case 1:
      return { url: `${url}/v1/traces`, body: encodeOtlpProto(spans), headers: { 'content-type': 'application/x-protobuf' } };
    case 2:
      return {
        url: `${url}/v1/traces`,
        body: gzipSync(encodeOtlpProto(spans)),
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      };
    default:
      return { url: `${url}/api/v2/spans`, body: JSON.stringify(encodeZipkinJson(spans)), headers: { 'content-type': 'application/json' } };
  }
}

describe('crash durability', () => {
  it('SIGKILL mid-ingest, restart: every acknowledged span is stored', async () => {
    const dataDir = await tempDir();
    const prefix = randomBytes(6).toString('hex');
    let server: ServerProcess | undefined;
    let restarted: ServerProcess | undefined;
    try {
      server = await startServe(['--data', dataDir]);
      const url = server.url;
      const acked: string[] = [];
      let sent = 0;
      let failed = 0;
      let stop = false;
      const worker = async (w: number): Promise<void> => {
        for (let seq = 0; !stop && seq < 10_000; seq++) {
          const traceId = `${prefix}${w.toString(16).padStart(4, '0')}${seq.toString(16).padStart(16, '0')}`;
          const r = request(url, makeBatch(traceId, SPANS_PER_BATCH), seq + w);
          sent++;
          try {
            const res = await fetch(r.url, { method: 'POST', body: r.body, headers: r.headers });
            await res.arrayBuffer();
            if (res.status >= 200 && res.status < 300) acked.push(traceId);
            else failed++;
          } catch {
            failed++; // the server died under this request: not acknowledged
            return;
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      const start = Date.now();
      while (acked.length < KILL_AFTER_BATCHES && Date.now() - start < KILL_AFTER_MS) await new Promise((r) => setTimeout(r, 5));
      server.child.kill('SIGKILL');
      const exit = await exitWithin(server, 10_000);
      stop = true;
      await Promise.all(workers);
      assert.equal(exit.signal, 'SIGKILL');
      assert.ok(acked.length >= 10, `only ${acked.length} batches were acknowledged before the kill`);
      const ackedCount = acked.length;

      restarted = await startServe(['--data', dataDir]);
      const recovered = /recovered (\d+) spans/.exec(restarted.stdout());
      restarted.child.kill('SIGTERM');
      const clean = await exitWithin(restarted, 30_000);
      assert.equal(clean.code, 0, restarted.stderr());

      const store = await openEmbeddedStore({ dataDir });
      try {
        const traces = await store.getTraces(acked);
        const missing = acked.filter((_, i) => traces[i].length !== SPANS_PER_BATCH);
        assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged batches incomplete`);
        for (const trace of traces.slice(0, 5)) {
          assert.deepEqual(
            trace.map((s) => s.spanId).sort(),
            Array.from({ length: SPANS_PER_BATCH }, (_, i) => (i + 1).toString(16).padStart(16, '0')).sort(),
          );
        }
      } finally {
        await store.close();
      }
      assert.equal(acked.length, ackedCount, 'no acknowledgement arrived after the kill');
      // Diagnostics for the reader: how much the log had to replay.
      console.log(
        `crash test: ${sent} batches sent, ${acked.length} acknowledged (${acked.length * SPANS_PER_BATCH} spans), ${failed} cut off; ` +
          `replayed on restart: ${recovered === null ? 0 : recovered[1]} spans`,
      );
    } finally {
      server?.kill();
      restarted?.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
