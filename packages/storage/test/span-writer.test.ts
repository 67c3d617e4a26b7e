import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { span, spanIdOf, T0, traceIdOf } from '../src/contract/contract-spans.js';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import { freshDirs, readDatabase } from './support/store-files.js';

const freshDir = freshDirs('lt-span-writer-');
const sql = readDatabase;

/** `count` spans of trace `trace`, numbered from `from`. */
function spansOf(trace: number, count: number, from = 0): Span[] {
  return Array.from({ length: count }, (_, i) => span({ traceId: traceIdOf(trace), spanId: spanIdOf(trace, from + i), startUs: T0 + (from + i) * 10 }));
}

function startRecord(s: Span): Span {
  const start = { ...s };
  delete start.durationUs;
  return start;
}

async function timed(p: Promise<void>): Promise<number> {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
}

// Long enough that a write which waited for it cannot be mistaken for a slow one on a loaded machine
// (load 10-16): "at once" means under half of it, "waited" at least all of it.
const LINGER_MS = 8000;
const AT_ONCE_MS = LINGER_MS / 2;

describe('span writer batching', () => {
  it('waits for a whole row group only after a large batch from several callers, never for a lone caller', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, flushRows: 400, busyFlushIntervalMs: LINGER_MS });
    try {
      // One caller awaiting each large write: committed at once every time.
      for (let i = 0; i < 3; i++) {
        const ms = await timed(store.writeSpans(spansOf(i, 300)));
        assert.ok(ms < AT_ONCE_MS, `lone write ${i} took ${ms.toFixed(0)} ms`);
      }
      // Two callers in one batch of 300 (≥ flushRows / 4): the store is busy now…
      await Promise.all([store.writeSpans(spansOf(10, 150)), store.writeSpans(spansOf(11, 150))]);
      // …so a small write waits for more spans, up to the busy interval…
      const small = store.writeSpans(spansOf(12, 5));
      const t0 = performance.now();
      // …and a write that fills the row group releases it at once.
      await Promise.all([small, store.writeSpans(spansOf(13, 400))]);
      const filled = performance.now() - t0;
      assert.ok(filled < AT_ONCE_MS, `a full row group waited ${filled.toFixed(0)} ms`);
      // That batch had two callers and 405 spans: still busy, a lone small write waits out the interval.
      const waited = await timed(store.writeSpans(spansOf(14, 5)));
      assert.ok(waited >= LINGER_MS - 50, `a busy store committed a small write after ${waited.toFixed(0)} ms`);
      // One caller in the last batch: quiet again, the next write goes at once.
      const quiet = await timed(store.writeSpans(spansOf(15, 5)));
      assert.ok(quiet < AT_ONCE_MS, `a quiet store took ${quiet.toFixed(0)} ms`);
      assert.equal((await store.getTrace(traceIdOf(13))).length, 400);
      assert.equal((await store.stats()).spanRecords, 3 * 300 + 300 + 5 + 400 + 5 + 5);
    } finally {
      await store.close();
    }
  });

  it('flushes a waiting batch on close without waiting for the busy interval', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, flushRows: 400, busyFlushIntervalMs: 60_000 });
    await Promise.all([store.writeSpans(spansOf(1, 150)), store.writeSpans(spansOf(2, 150))]);
    const pending = store.writeSpans(spansOf(3, 5));
    const ms = await timed(store.close());
    await pending;
    assert.ok(ms < 30_000, `close took ${ms.toFixed(0)} ms`);
    assert.deepStrictEqual(await sql(dataDir, 'SELECT count(*)::INTEGER FROM spans'), [[305]]);
  });

  it('stores the spans of one write grouped by trace, in start order, whatever order they came in', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir });
    // Interleaved like an OTLP request grouped by resource: trace 2, 1, 3, 1, 2, 3, … and starts reversed.
    const a = spansOf(1, 6).reverse();
    const b = spansOf(2, 6).reverse();
    const c = spansOf(3, 6).reverse();
    const mixed: Span[] = [];
    for (let i = 0; i < 6; i++) mixed.push(b[i]!, a[i]!, c[i]!);
    await store.writeSpans(mixed);
    await store.close();
    const rows = await sql(dataDir, 'SELECT start_us::DOUBLE FROM spans ORDER BY rowid');
    const starts = rows.map((r) => (r[0] as number) - T0);
    assert.deepStrictEqual(starts, [0, 10, 20, 30, 40, 50, 0, 10, 20, 30, 40, 50, 0, 10, 20, 30, 40, 50]);
    const traceRuns = await sql(dataDir, 'SELECT count(*)::INTEGER FROM (SELECT tid, lag(tid) OVER (ORDER BY rowid) AS prev FROM spans) WHERE prev IS NULL OR prev <> tid');
    assert.deepStrictEqual(traceRuns, [[3]]);
  });

  it('merges a start record with its end record in the same batch, and keeps both across batches', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir });
    const full = spansOf(1, 2);
    await store.writeSpans([startRecord(full[0]!), ...full]);
    await store.writeSpans([startRecord(spansOf(2, 1)[0]!)]);
    await store.writeSpans(spansOf(2, 1));
    const one = await store.getTrace(traceIdOf(1));
    assert.equal(one.length, 2);
    assert.ok(one.every((s) => s.durationUs === 100));
    const two = await store.getTrace(traceIdOf(2));
    assert.equal(two.length, 1);
    assert.equal(two[0]!.durationUs, 100);
    await store.close();
    // Same batch: the start record was never stored; separate batches: both records are.
    assert.deepStrictEqual(await sql(dataDir, 'SELECT count(*)::INTEGER FROM spans'), [[4]]);
  });
});
