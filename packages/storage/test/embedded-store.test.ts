import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { sortForCompare, span, spanIdOf, T0, traceIdOf } from '../src/contract/contract-spans.js';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import { freshDirs, readDatabase } from './support/store-files.js';
import type { EmbeddedStoreOptions } from '../src/embedded/embedded-store.js';
import { realisticSpans } from './support/realistic-spans.js';

const freshDir = freshDirs('lt-embedded-store-');
const sql = readDatabase;

describe('embedded store', () => {
  it('creates the data directory with one database file in it', async () => {
    const dataDir = join(freshDir(), 'nested', 'data');
    const store = await openEmbeddedStore({ dataDir });
    await store.close();
    assert.ok(existsSync(join(dataDir, 'linktrace.duckdb')));
  });

  it('refuses bad options', async () => {
    const bad: [unknown, RegExp][] = [
      [{}, /dataDir/],
      [{ dataDir: '' }, /dataDir/],
      [{ dataDir: freshDir(), readers: 0 }, /readers/],
      [{ dataDir: freshDir(), flushRows: 1.5 }, /flushRows/],
      [{ dataDir: freshDir(), flushIntervalMs: -1 }, /flushIntervalMs/],
    ];
    for (const [options, message] of bad) await assert.rejects(openEmbeddedStore(options as EmbeddedStoreOptions), message);
  });

  it('refuses a second store on a data directory already open in this process, and allows it after close', async () => {
    const dataDir = freshDir();
    const first = await openEmbeddedStore({ dataDir });
    await assert.rejects(openEmbeddedStore({ dataDir }), /already open in this process/);
    await assert.rejects(openEmbeddedStore({ dataDir: `${dataDir}/.` }), /already open in this process/);
    await first.close();
    const second = await openEmbeddedStore({ dataDir });
    await second.close();
  });

  it('opens read-only (a full disk): answers queries, refuses writes, and leaves the file as it was', async () => {
    const dataDir = freshDir();
    const spans = Array.from({ length: 3 }, (_, i) => span({ traceId: traceIdOf(i + 1), spanId: spanIdOf(i + 1, 0), startUs: T0 + i }));
    const writable = await openEmbeddedStore({ dataDir, flushIntervalMs: 0 });
    await writable.writeSpans(spans);
    await writable.close();
    const readOnly = await openEmbeddedStore({ dataDir, readOnly: true });
    try {
      for (const s of spans) assert.deepStrictEqual(await readOnly.getTrace(s.traceId), [s]);
      await assert.rejects(readOnly.writeSpans([span({ traceId: traceIdOf(9), spanId: spanIdOf(9, 0), startUs: T0 })]));
    } finally {
      await readOnly.close();
    }
    assert.deepStrictEqual(await sql(dataDir, 'SELECT count(*)::INT FROM spans'), [[3]]);
  });

  it('gives a key found on most spans a column, keeps it across a reopen, and finds values from before and after', async () => {
    const dataDir = freshDir();
    const options = { dataDir, flushIntervalMs: 0, attributeColumns: { sampleEvery: 1, window: 4, minShare: 0.5 } };
    const mk = (n: number): Span =>
      span({ traceId: traceIdOf(n), spanId: spanIdOf(n, 0), startUs: T0 + n, attributes: { 'shop.id': String(n), rare: n === 1 ? 'yes' : undefined! } });
    const spans = Array.from({ length: 12 }, (_, i) => mk(i + 1));
    for (const s of spans) if (s.attributes.rare === undefined) delete s.attributes.rare;
    let store = await openEmbeddedStore(options);
    await store.writeSpans(spans.slice(0, 2)); // written before any decision: the key sits in the list
    await store.writeSpans(spans.slice(2, 8));
    await store.close();
    assert.deepStrictEqual(await sql(dataDir, 'SELECT slot, key FROM attribute_columns ORDER BY slot'), [[0, 'shop.id']]);
    assert.deepStrictEqual(await sql(dataDir, `SELECT count(*)::INT FROM spans WHERE a0 IS NULL`), [[4]]);
    store = await openEmbeddedStore(options);
    await store.writeSpans(spans.slice(8));
    for (const s of spans) {
      const hits = await store.findTraces({ attributes: { 'shop.id': s.attributes['shop.id']! as string } });
      assert.deepStrictEqual(hits.map((h) => h.traceId), [s.traceId]);
      assert.deepStrictEqual(await store.getTrace(s.traceId), [s]);
    }
    assert.deepStrictEqual((await store.findTraces({ attributes: { rare: 'yes' } })).map((h) => h.traceId), [traceIdOf(1)]);
    await store.close();
    assert.deepStrictEqual(await sql(dataDir, `SELECT count(*)::INT FROM spans WHERE a0 IS NOT NULL`), [[8]]);
  });

  it('reads back realistic spans exactly, across the promotion of their attributes to columns', async () => {
    const dataDir = freshDir();
    const spans = realisticSpans({ count: 3000, seed: 7 });
    const store = await openEmbeddedStore({ dataDir, flushRows: 1000 });
    await Promise.all([store.writeSpans(spans.slice(0, 1500)), store.writeSpans(spans.slice(1500))]);
    const byTrace = new Map<string, Span[]>();
    for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
    const ids = [...byTrace.keys()];
    const got = await store.getTraces(ids);
    ids.forEach((id, i) => assert.deepStrictEqual(sortForCompare(got[i]!), sortForCompare(byTrace.get(id)!), id));
    await store.close();
    const keys = (await sql(dataDir, 'SELECT key FROM attribute_columns ORDER BY key')).map((r) => r[0]);
    assert.deepStrictEqual(keys, Object.keys(spans[0]!.attributes).sort());
  });

  it('finds resource attributes among more distinct resources than it keeps in memory', async () => {
    const dataDir = freshDir();
    let store = await openEmbeddedStore({ dataDir });
    const spans = Array.from({ length: 20_050 }, (_, i) =>
      span({ traceId: traceIdOf(i + 1), spanId: spanIdOf(i + 1, 0), startUs: T0 + i, resource: { pod: `pod-${i}` } }),
    );
    await store.writeSpans(spans.slice(0, 10));
    assert.deepStrictEqual((await store.findTraces({ attributes: { pod: 'pod-3' } })).map((h) => h.traceId), [traceIdOf(4)]);
    await store.writeSpans(spans.slice(10));
    for (const i of [3, 12_345, 20_049]) {
      assert.deepStrictEqual((await store.findTraces({ attributes: { pod: `pod-${i}` } })).map((h) => h.traceId), [traceIdOf(i + 1)]);
    }
    await store.close();
    store = await openEmbeddedStore({ dataDir });
    assert.deepStrictEqual((await store.findTraces({ attributes: { pod: 'pod-20000' } })).map((h) => h.traceId), [traceIdOf(20_001)]);
    assert.deepStrictEqual(await store.findTraces({ attributes: { pod: 'pod-x' } }), []);
    await store.close();
  });

  it('holds spans until the interval or the batch size, and flush() or close() commits them at once', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, flushIntervalMs: 60_000, flushRows: 3 });
    const a = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
    let done = false;
    const pending = store.writeSpans([a]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, 'waits for the interval');
    assert.deepStrictEqual(await store.getTrace(a.traceId), [], 'not visible before its batch commits');
    await store.flush();
    await pending;
    assert.deepStrictEqual(await store.getTrace(a.traceId), [a]);
    // Three spans reach flushRows: no waiting for the minute-long interval.
    const three = [2, 3, 4].map((n) => span({ traceId: traceIdOf(n), spanId: spanIdOf(n, 0) }));
    await store.writeSpans(three);
    const last = span({ traceId: traceIdOf(5), spanId: spanIdOf(5, 0) });
    const unawaited = store.writeSpans([last]);
    await store.close();
    await unawaited;
    const again = await openEmbeddedStore({ dataDir });
    assert.deepStrictEqual(await again.getTrace(last.traceId), [last], 'close() committed it');
    await again.close();
  });

  it('looks a trace up by reading one row group of many (min/max pruning on time-prefixed ids)', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, flushRows: 300_000 });
    const spans = realisticSpans({ count: 250_000, seed: 3 });
    await store.writeSpans(spans);
    await store.close();
    const target = spans[140_000]!.traceId;
    const rows = await sql(
      dataDir,
      `PRAGMA enable_profiling='json'; PRAGMA custom_profiling_settings='{"OPERATOR_ROWS_SCANNED": "true"}'; ` +
        `EXPLAIN ANALYZE SELECT count(*) FROM spans WHERE tid = ((('0x' || substr('${target}', 1, 16))::UBIGINT::UHUGEINT << 64) | ('0x' || substr('${target}', 17, 16))::UBIGINT::UHUGEINT)`,
    );
    const scanned = [...(rows[0]![1] as string).matchAll(/"operator_rows_scanned": (\d+)/g)].map((m) => Number(m[1]));
    const most = Math.max(...scanned);
    assert.ok(most > 0 && most <= 122_880, `scanned ${most} of ${spans.length} rows`);
  });

  it('deleteTraces removes every record of the traces and their findings, counting them, and ignores unknown ids', async () => {
    const store = await openEmbeddedStore({ dataDir: freshDir() });
    try {
      const spans = [1, 2].flatMap((t) => [0, 1].map((i) => span({ traceId: traceIdOf(t), spanId: spanIdOf(t, i), startUs: T0 + i })));
      await store.writeSpans(spans);
      await store.writeFindings([{ traceId: traceIdOf(1), rule: 'unfinished-span', service: 'svc', spanId: spanIdOf(1, 0), message: 'm', timeUs: T0 }]);
      assert.deepStrictEqual(await store.deleteTraces([traceIdOf(1), traceIdOf(7), 'nope']), { spans: 2, findings: 1 });
      assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
      assert.equal((await store.getTrace(traceIdOf(2))).length, 2);
      assert.deepStrictEqual((await store.findTraces({})).map((h) => h.traceId), [traceIdOf(2)]);
      assert.equal((await store.stats()).spanRecords, 2);
    } finally {
      await store.close();
    }
  });
});
