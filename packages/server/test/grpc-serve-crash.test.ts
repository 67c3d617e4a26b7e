/**
 * Durability over gRPC: `linktrace serve` is SIGKILLed while OTLP/gRPC exports are under way,
 * restarted on the same data dir, and every span whose Export got OK is found through the store
 * (the receiver shares the write-ahead log with HTTP: an OK comes after the fsync). Also a clean stop
 * (SIGTERM) with gRPC on.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { encodeOtlpProto, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { tempDir } from './ingest-helpers.js';
import { exitWithin, startServe, type ServerProcess } from './serve-helpers.js';
import { exportCall, freePort } from './grpc-helpers.js';

const WORKERS = 4;
const SPANS_PER_BATCH = 50;
const KILL_AFTER_BATCHES = 30;
const KILL_AFTER_MS = 4000;

function batch(traceId: string): Span[] {
  const now = Date.now() * 1000;
  return Array.from({ length: SPANS_PER_BATCH }, (_, i) => ({
    traceId,
    spanId: (i + 1).toString(16).padStart(16, '0'),
    service: 'grpc-crash',
    name: `op-${i % 7}`,
    kind: 'server' as const,
    startUs: now + i,
    durationUs: 100 + i,
    status: { code: 'unset' as const },
    attributes: { n: i },
    events: [],
    links: [],
  }));
}

describe('gRPC crash durability', () => {
  it('SIGKILL mid-export, restart: every span whose Export got OK is stored', async () => {
    const dataDir = await tempDir();
    const prefix = randomBytes(6).toString('hex');
    let server: ServerProcess | undefined;
    let restarted: ServerProcess | undefined;
    try {
      const grpcPort = await freePort();
      server = await startServe(['--data', dataDir, '--grpc-port', String(grpcPort), '--no-ui']);
      const address = `127.0.0.1:${grpcPort}`;
      const acked: string[] = [];
      let stop = false;
      const worker = async (w: number): Promise<void> => {
        for (let seq = 0; !stop && seq < 10_000; seq++) {
          const traceId = `${prefix}${w.toString(16).padStart(4, '0')}${seq.toString(16).padStart(16, '0')}`;
          const result = await exportCall(address, encodeOtlpProto(batch(traceId)));
          if (result.ok) acked.push(traceId);
          else return; // the server died under this call: not acknowledged
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      const start = Date.now();
      while (acked.length < KILL_AFTER_BATCHES && Date.now() - start < KILL_AFTER_MS) await new Promise((r) => setTimeout(r, 5));
      server.child.kill('SIGKILL');
      const exit = await exitWithin(server, 10_000);
      const ackedAtKill = acked.length;
      stop = true;
      await Promise.all(workers);
      assert.equal(exit.signal, 'SIGKILL');
      assert.ok(ackedAtKill >= 5, `only ${ackedAtKill} exports were acknowledged before the kill`);
      assert.equal(acked.length, ackedAtKill, 'no OK arrived after the kill');

      restarted = await startServe(['--data', dataDir, '--no-ui']);
      restarted.child.kill('SIGTERM');
      assert.equal((await exitWithin(restarted, 30_000)).code, 0, restarted.stderr());
      const store = await openEmbeddedStore({ dataDir });
      try {
        const traces = await store.getTraces(acked);
        const missing = acked.filter((_, i) => traces[i]!.length !== SPANS_PER_BATCH);
        assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged exports incomplete`);
      } finally {
        await store.close();
      }
    } finally {
      server?.kill();
      restarted?.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('gRPC and a clean stop', () => {
  it('SIGTERM: serve stops its gRPC receiver with the HTTP side, exits 0, and what got OK is stored', async () => {
    const dataDir = await tempDir();
    let server: ServerProcess | undefined;
    try {
      const grpcPort = await freePort();
      server = await startServe(['--data', dataDir, '--grpc-port', String(grpcPort), '--no-ui']);
      assert.match(server.stdout(), new RegExp(`OTLP/gRPC {2}http://127\\.0\\.0\\.1:${grpcPort} `));
      const traceId = randomBytes(16).toString('hex');
      assert.ok((await exportCall(`127.0.0.1:${grpcPort}`, encodeOtlpProto(batch(traceId)))).ok);
      server.child.kill('SIGTERM');
      assert.equal((await exitWithin(server, 30_000)).code, 0, server.stderr());
      assert.match(server.stdout(), /linktrace: stopped/);
      // The port is free again: the receiver closed.
      const after = await exportCall(`127.0.0.1:${grpcPort}`, encodeOtlpProto(batch(traceId)));
      assert.equal(after.ok, false);
      const store = await openEmbeddedStore({ dataDir });
      try {
        assert.equal((await store.getTrace(traceId)).length, SPANS_PER_BATCH);
      } finally {
        await store.close();
      }
    } finally {
      server?.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
