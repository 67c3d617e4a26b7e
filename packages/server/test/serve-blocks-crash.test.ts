/**
 * Durability with the block store (`--store-format blocks`), whose writes resolve once in its
 * in-memory head and reach a file a whole head at a time: the server confirms its write-ahead log
 * only for spans in a written file. SIGKILLed while every acknowledged span is still in the head
 * (no file yet), the restarted server replays them from the log: every acknowledged span is stored,
 * each record exactly once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { openBlockStore } from '@linktrace/storage';
import { tempDir } from './ingest-helpers.js';
import { exitWithin, startServe, type ServerProcess } from './serve-helpers.js';

const WORKERS = 4;
const SPANS_PER_BATCH = 50;
const KILL_AFTER_BATCHES = 40;
const KILL_AFTER_MS = 4000;

function makeBatch(traceId: string, n: number): Span[] {
  const now = Date.now() * 1000;
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const s: Span = {
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      service: `svc-${i % 5}`,
      name: `op-${i % 7}`,
      kind: i === 0 ? 'server' : 'client',
      startUs: now + i,
      durationUs: 100 + i,
      status: { code: 'unset' },
      attributes: { n: i },
      events: [],
      links: [],
    };
    if (i > 0) s.parentSpanId = '0000000000000001';
    spans.push(s);
  }
  return spans;
}

/** Rows the manifest's files hold: all, and distinct (trace, span) pairs. */
async function fileRows(dataDir: string): Promise<{ rows: number; distinct: number }> {
  const dir = join(dataDir, 'blocks');
  let files: { name: string }[] = [];
  try {
    files = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { name: string }[] }).files;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // no manifest yet: no file
  }
  if (files.length === 0) return { rows: 0, distinct: 0 };
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    try {
      const list = files.map((f) => `'${join(dir, f.name)}'`).join(', ');
      const r = (await c.runAndReadAll(`SELECT count(*)::DOUBLE, count(DISTINCT (tid_hi, tid_lo, sid))::DOUBLE FROM read_parquet([${list}])`)).getRowsJS()[0]!;
      return { rows: r[0] as number, distinct: r[1] as number };
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

describe('crash durability, block store', () => {
  it('SIGKILL with acknowledged spans only in the head: the log replays them, each once', async () => {
    const dataDir = await tempDir();
    const prefix = randomBytes(6).toString('hex');
    let server: ServerProcess | undefined;
    let restarted: ServerProcess | undefined;
    try {
      server = await startServe(['--data', dataDir, '--store-format', 'blocks']);
      const url = server.url;
      const acked: string[] = [];
      let stop = false;
      const worker = async (w: number): Promise<void> => {
        for (let seq = 0; !stop && seq < 10_000; seq++) {
          const traceId = `${prefix}${w.toString(16).padStart(4, '0')}${seq.toString(16).padStart(16, '0')}`;
          try {
            const res = await fetch(`${url}/api/v1/spans`, {
              method: 'POST',
              body: JSON.stringify(encodeNativeJson(makeBatch(traceId, SPANS_PER_BATCH))),
              headers: { 'content-type': 'application/json' },
            });
            await res.arrayBuffer();
            if (res.status >= 200 && res.status < 300) acked.push(traceId);
          } catch {
            return; // the server died under this request: not acknowledged
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
      // The head (122 880 spans, 15 s) was not written: the acknowledged spans were in memory and the log only.
      assert.equal((await fileRows(dataDir)).rows, 0, 'no head written before the kill');

      restarted = await startServe(['--data', dataDir, '--store-format', 'blocks']);
      restarted.child.kill('SIGTERM');
      const clean = await exitWithin(restarted, 30_000);
      assert.equal(clean.code, 0, restarted.stderr());

      const written = await fileRows(dataDir);
      assert.equal(written.rows, written.distinct, 'no span record twice');
      assert.ok(written.rows >= acked.length * SPANS_PER_BATCH);
      const store = await openBlockStore({ dataDir });
      try {
        const traces = await store.getTraces(acked);
        const missing = acked.filter((_, i) => traces[i]!.length !== SPANS_PER_BATCH);
        assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged batches incomplete`);
      } finally {
        await store.close();
      }
      // A clean stop confirmed the log: a third start replays nothing.
      const third = await startServe(['--data', dataDir]);
      third.child.kill('SIGTERM');
      assert.equal((await exitWithin(third, 30_000)).code, 0, third.stderr());
      assert.doesNotMatch(third.stdout(), /recovered [1-9]/);
      assert.equal((await fileRows(dataDir)).rows, written.rows);
    } finally {
      server?.kill();
      restarted?.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
