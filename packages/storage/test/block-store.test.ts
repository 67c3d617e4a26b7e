import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Span } from '@linktrace/model';
import { fullSpan, span, spanIdOf, startRecordOf, T0, traceIdOf } from '../src/contract/contract-spans.js';
import { BLOCKS_DIR, openBlockStore } from '../src/blocks/block-store.js';
import type { BlockStore, BlockStoreOptions } from '../src/blocks/block-store.js';
import { mergedRestKeys, REST_KEYS_LIMIT, restKeySet, restMayHold } from '../src/blocks/manifest.js';
import type { BlockFile } from '../src/blocks/manifest.js';
import { PARQUET_CREATED_BY } from '../src/blocks/parquet-file.js';
import { realisticSpanStream } from './support/realistic-spans.js';
import { assertAllOnce, traces } from './support/block-traces.js';
import { freshDirs } from './support/store-files.js';

const freshDir = freshDirs('lt-block-store-');

async function open(dataDir: string, options: Omit<BlockStoreOptions, 'dataDir'> = {}): Promise<BlockStore> {
  return openBlockStore({ dataDir, compactFiles: Infinity, compactRows: Infinity, ...options });
}

/** Rows of a query on a plain in-memory DuckDB (no store involved). */
async function plainDuckDB(query: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    try {
      return (await c.runAndReadAll(query)).getRowsJS();
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

/** Who wrote each live compacted file (Parquet `created_by`): ours (JS compaction, parquet-pages.ts) or DuckDB. */
async function writersOf(dataDir: string, store: BlockStore): Promise<string[]> {
  const out: string[] = [];
  for (const f of store.blockFiles().filter((b) => b.level === 1)) {
    const rows = await plainDuckDB(`SELECT created_by FROM parquet_file_metadata('${join(dataDir, BLOCKS_DIR, f.name)}')`);
    out.push(/duckdb/i.test(String(rows[0]![0])) ? 'duckdb' : String(rows[0]![0]));
  }
  return out;
}

/**
 * Micro-block batches for comparing compactions: realistic traces cut across batches (parents in
 * another micro-block), plus one trace of 150 spans over two batches with equal starts (sort
 * ties; the parent lookup's map path), a 16-hex trace id, a parent never written and a root.
 */
function compactionBatches(): Span[][] {
  const spans = [...realisticSpanStream({ count: 2400, seed: 7 })];
  const batches: Span[][] = [];
  for (let i = 0; i < spans.length; i += 400) batches.push(spans.slice(i, i + 400));
  const big: Span[] = [];
  // Span ids against the written order, pairs sharing their high half and start: the sort's ties
  // on start fall to the span id, both of its halves.
  const bigId = (i: number): string => (0xf0000000 - (i >> 1) * 7919).toString(16) + (((i * 37) % 150) + 1).toString(16).padStart(8, '0');
  for (let i = 0; i < 150; i++) {
    big.push(span({ traceId: traceIdOf(77), spanId: bigId(i), ...(i > 0 ? { parentSpanId: bigId(i % 2 === 0 ? 0 : i - 1) } : {}), startUs: T0 + ((i >> 1) % 5) }));
  }
  batches[1]!.push(...big.slice(0, 80));
  batches[4]!.push(...big.slice(80));
  batches[2]!.push(
    span({ traceId: 'abcdef0123456789', spanId: spanIdOf(78, 0), startUs: T0 }),
    span({ traceId: 'abcdef0123456789', spanId: spanIdOf(78, 1), parentSpanId: spanIdOf(78, 0), startUs: T0 + 1 }),
    span({ traceId: traceIdOf(79), spanId: spanIdOf(79, 1), parentSpanId: spanIdOf(79, 0), startUs: T0 }),
  );
  return batches;
}

/** Every stored column of a block file's rows, in file order, as text (types may differ between writers). */
async function fileRows(path: string, slots: number): Promise<unknown[][]> {
  const attrs = Array.from({ length: slots }, (_, s) => `, a${s}`).join('');
  return plainDuckDB(
    `SELECT tid_hi::VARCHAR, tid_lo::VARCHAR, t64, sid::VARCHAR, pid::VARCHAR, rpcid, service, instance, name, kind::INTEGER, start_us::VARCHAR, ` +
      `duration_us::VARCHAR, status::INTEGER, status_msg, kinds, rest::VARCHAR, resource, scope_name, scope_version, scope_attrs, remote_service, side, ` +
      `extra, links, arrived_us::VARCHAR, bseq::VARCHAR, pdelta${attrs} FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`,
  );
}

describe('block store', () => {
  it('compaction keeps every span exactly once, also for reads running during it', async () => {
    const store = await open(freshDir());
    try {
      for (let b = 0; b < 10; b++) await store.writeSpans(traces(b * 20, b * 20 + 20));
      assert.equal(store.blockFiles().filter((f) => f.level === 0).length, 10);
      const compaction = store.compact();
      const reads: Promise<void>[] = [];
      for (let i = 0; i < 6; i++) reads.push(assertAllOnce(store, 200));
      // A write during the compaction lands in a micro-block of its own, not lost by the swap.
      const late = store.writeSpans(traces(200, 210));
      await Promise.all([compaction, late, ...reads]);
      await assertAllOnce(store, 210);
      const files = store.blockFiles();
      assert.ok(files.some((f) => f.level === 1 && f.rows === 600), JSON.stringify(files));
      assert.equal(files.reduce((n, f) => n + f.rows, 0), 630);
    } finally {
      await store.close();
    }
  });

  it('compacts in the background once enough micro-blocks wait', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir, { compactFiles: 4 });
    try {
      for (let b = 0; b < 9; b++) await store.writeSpans(traces(b * 10, b * 10 + 10));
      await store.flush();
      await assertAllOnce(store, 90);
      await store.compact();
      assert.equal(store.blockFiles().filter((f) => f.level === 0).length, 0);
      await assertAllOnce(store, 90);
    } finally {
      await store.close();
    }
    // Files swapped out are deleted (with their trace summaries): only the manifest's files are left,
    // each compacted one with its summaries beside it.
    const left = readdirSync(join(dataDir, BLOCKS_DIR)).filter((n) => n.endsWith('.parquet'));
    const reopened = await open(dataDir);
    try {
      const live = reopened.blockFiles();
      assert.ok(live.every((f) => f.level === 1 && f.traces === true), JSON.stringify(live));
      assert.deepStrictEqual(left.sort(), live.flatMap((f) => [f.name, `${f.name}.traces.parquet`]).sort());
    } finally {
      await reopened.close();
    }
  });

  it('loses and duplicates nothing after a crash between a compaction write and its manifest swap', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    for (let b = 0; b < 4; b++) await store.writeSpans(traces(b * 25, b * 25 + 25));
    const names = store.blockFiles().map((f) => f.name);
    await store.close();
    const blocks = join(dataDir, BLOCKS_DIR);
    // What a crash leaves: a compaction output holding every span (never named in the manifest),
    // a manifest being replaced, a micro-block written but not committed.
    const paths = names.map((n) => `'${join(blocks, n)}'`).join(', ');
    await plainDuckDB(`COPY (SELECT * FROM read_parquet([${paths}], union_by_name = true)) TO '${join(blocks, 'c-999.parquet')}' (FORMAT parquet)`);
    writeFileSync(join(blocks, 'manifest.json.tmp'), '{"version":1,"nextSeq":1000,"files":[]}');
    copyFileSync(join(blocks, names[0]!), join(blocks, 'b-998.parquet.tmp'));
    const again = await open(dataDir);
    try {
      await assertAllOnce(again, 100);
      assert.deepStrictEqual(readdirSync(blocks).sort(), [...names, 'manifest.json'].sort());
      // And it goes on: new files do not reuse the names of files it knows.
      await again.writeSpans(traces(100, 110));
      await again.compact();
      await assertAllOnce(again, 110);
    } finally {
      await again.close();
    }
  });

  it('retention drops whole files, rewrites the one straddling the cutoff, and counts what it removed', async () => {
    let nowMs = 1_000;
    const store = await open(freshDir(), { clock: () => nowMs });
    try {
      await store.writeSpans(traces(0, 10)); // arrived at 1 000 ms
      nowMs = 2_000;
      await store.writeSpans(traces(10, 20)); // 2 000 ms
      await store.compact(); // one file, arrivals 1 000 … 2 000 ms
      nowMs = 3_000;
      await store.writeSpans(traces(20, 30)); // 3 000 ms, a micro-block of its own
      await store.writeFindings([
        { traceId: traceIdOf(1), rule: 'unfinished-span', service: 'svc', spanId: spanIdOf(1, 0), message: 'm', timeUs: T0 },
        { traceId: traceIdOf(25), rule: 'unfinished-span', service: 'svc', spanId: spanIdOf(25, 0), message: 'm', timeUs: T0 },
      ]);
      const compacted = store.blockFiles().find((f) => f.level === 1)!;
      assert.deepStrictEqual(await store.deleteBefore(1_500_000), { spans: 30, findings: 1, sdkDropReports: 0 });
      const files = store.blockFiles();
      assert.ok(!files.some((f) => f.name === compacted.name), 'the straddling file was replaced');
      assert.ok(files.some((f) => f.name.startsWith('r-') && f.rows === 30 && f.minArrived === 2_000_000));
      assert.deepStrictEqual((await store.getTrace(traceIdOf(5))).length, 0);
      assert.deepStrictEqual((await store.getTrace(traceIdOf(15))).length, 3);
      // A cutoff past a whole file drops it without rewriting anything.
      assert.deepStrictEqual(await store.deleteBefore(2_500_000), { spans: 30, findings: 0, sdkDropReports: 0 });
      assert.deepStrictEqual(store.blockFiles().map((f) => f.level), [0]);
      assert.equal((await store.stats()).spanRecords, 30);
      assert.equal((await store.findFindings()).length, 1);
    } finally {
      await store.close();
    }
  });

  it('deleteTraces: tombstones hide the traces, survive a reopen, and vanish at compaction', async () => {
    const dataDir = freshDir();
    let store = await open(dataDir);
    try {
      await store.writeSpans(traces(0, 10));
      await store.compact();
      await store.writeSpans(traces(10, 20));
      await store.writeFindings([{ traceId: traceIdOf(3), rule: 'unfinished-span', service: 'svc', spanId: spanIdOf(3, 0), message: 'm', timeUs: T0 }]);
      assert.deepStrictEqual(await store.deleteTraces([traceIdOf(3), traceIdOf(12), traceIdOf(999), 'not-an-id']), { spans: 6, findings: 1 });
      assert.deepStrictEqual(await store.getTrace(traceIdOf(3)), []);
      assert.deepStrictEqual(await store.getTrace(traceIdOf(12)), []);
      assert.equal((await store.stats()).spanRecords, 54);
      assert.equal(store.pendingTombstones, 2);
      // A record of a deleted trace written afterwards is a new record: kept.
      const late = traces(3, 4, 1);
      await store.writeSpans(late);
      await store.close();
      store = await open(dataDir);
      assert.equal(store.pendingTombstones, 2);
      assert.deepStrictEqual(await store.getTrace(traceIdOf(3)), late);
      assert.deepStrictEqual(await store.getTrace(traceIdOf(12)), []);
      assert.ok(!(await store.findTraces({ service: 'svc-0', limit: 100 })).some((h) => h.traceId === traceIdOf(12)));
      await store.compact();
      assert.equal(store.pendingTombstones, 0);
      assert.deepStrictEqual(await store.getTrace(traceIdOf(3)), late);
      assert.equal((await store.stats()).spanRecords, 55);
      const paths = store.blockFiles().map((f) => `'${join(dataDir, BLOCKS_DIR, f.name)}'`);
      const rows = await plainDuckDB(`SELECT count(*)::INTEGER FROM read_parquet([${paths.join(', ')}], union_by_name = true)`);
      assert.deepStrictEqual(rows, [[55]], 'the hidden records are gone from the files');
    } finally {
      await store.close();
    }
  });

  it('deleteTraces: a tombstone stays while a query that began before a compaction swap reads the old files', async () => {
    const store = await open(freshDir());
    try {
      await store.writeSpans(traces(0, 1, 1));
      await store.deleteTraces([traceIdOf(0)]);
      const late = traces(0, 1, 2).slice(1);
      await store.writeSpans(late);
      // A query's snapshot taken before the swap, held as a slow query would hold it (a real one
      // races the swap; held here, the test does not depend on timing).
      const held = store['set'].acquire();
      await store.compact();
      const records = async (): Promise<unknown[][]> => store['rowsOver'](store['readers'][0]!, held, 'SELECT count(*)::DOUBLE FROM spans');
      assert.deepStrictEqual(await records(), [[1]], 'the deleted record stays hidden from the query reading the swapped-out files');
      assert.equal(store.pendingTombstones, 1);
      held.release();
      // Any later block mutation runs after the drop the release asked for.
      await store.deleteBefore(0);
      assert.equal(store.pendingTombstones, 0);
      assert.deepStrictEqual(await store.getTrace(traceIdOf(0)), late);
      assert.deepStrictEqual((await store.findTraces({})).map((h) => [h.traceId, h.spanCount]), [[traceIdOf(0), 1]]);
    } finally {
      await store.close();
    }
  });

  it('writes files plain DuckDB reads, with the trace id halves, times and attributes', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      await store.writeSpans(traces(0, 4));
      const glob = join(dataDir, BLOCKS_DIR, '*.parquet');
      const rows = await plainDuckDB(
        `SELECT printf('%016x%016x', tid_hi, tid_lo), printf('%016x', sid), service, start_us::DOUBLE, typeof(kind) ` +
          `FROM read_parquet('${glob}') ORDER BY start_us LIMIT 1`,
      );
      assert.deepStrictEqual(rows, [[traceIdOf(0), spanIdOf(0, 0), 'svc-0', T0, 'UTINYINT']]);
    } finally {
      await store.close();
    }
  });

  it('keeps the arrival time a write gives (a replay)', async () => {
    const store = await open(freshDir(), { clock: () => 5_000 });
    try {
      await store.writeSpans(traces(0, 2), { arrivedUs: 1_000_000 });
      await store.writeSpans(traces(2, 4));
      assert.deepStrictEqual(await store.deleteBefore(2_000_000), { spans: 6, findings: 0, sdkDropReports: 0 });
      assert.equal((await store.stats()).spanRecords, 6);
    } finally {
      await store.close();
    }
  });
  it('stores a parent in the same block as a position, one elsewhere as its id, and reads both back', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      // Children in another service: dependencies are counted by parent ids.
      const all = traces(0, 3, 4).map((s) => (s.parentSpanId === undefined ? s : { ...s, service: 'db' }));
      // Trace 0 whole in the first block; trace 1's root in the first, its children in the second.
      await store.writeSpans([...all.slice(0, 4), all[4]!]);
      await store.writeSpans([...all.slice(5)]);
      const micro = store.blockFiles().map((f) => `'${join(dataDir, BLOCKS_DIR, f.name)}'`).join(', ');
      const stored = `SELECT printf('%016x', sid), pid IS NULL, pdelta FROM read_parquet([${micro}], union_by_name = true) WHERE pid IS NOT NULL OR pdelta IS NOT NULL ORDER BY 1`;
      const rows = new Map((await plainDuckDB(stored)).map((r) => [r[0] as string, [r[1], r[2]]]));
      assert.deepStrictEqual(rows.get(spanIdOf(0, 2)), [true, 2], 'in-block parent: two rows back, no id');
      assert.deepStrictEqual(rows.get(spanIdOf(1, 1)), [false, null], 'parent in another block: its id');
      assert.deepStrictEqual(rows.get(spanIdOf(2, 3)), [true, 3]);
      const expected = [0, 1, 2].map((t) => all.filter((s) => s.traceId === traceIdOf(t)));
      assert.deepStrictEqual(await store.getTraces([0, 1, 2].map(traceIdOf)), expected);
      const deps = await store.dependencies(0, Number.MAX_SAFE_INTEGER);
      await store.compact();
      const [file] = store.blockFiles();
      assert.equal(file!.format, 2);
      const compacted = await plainDuckDB(`SELECT count(*)::INTEGER FROM read_parquet('${join(dataDir, BLOCKS_DIR, file!.name)}') WHERE pid IS NOT NULL`);
      assert.deepStrictEqual(compacted, [[0]], 'compaction turns every parent in the file into a position');
      assert.deepStrictEqual(await store.getTraces([0, 1, 2].map(traceIdOf)), expected);
      assert.deepStrictEqual(await store.dependencies(0, Number.MAX_SAFE_INTEGER), deps);
      assert.deepStrictEqual(deps.map((d) => [d.parent, d.child, d.callCount]), [['svc-0', 'db', 3], ['svc-1', 'db', 3], ['svc-2', 'db', 3]]);
    } finally {
      await store.close();
    }
  });

  it('reads a directory of format 1 (parent ids on every row) and rewrites it as format 2 at compaction', async () => {
    const dataDir = freshDir();
    const all = traces(0, 6, 3);
    let store = await open(dataDir);
    await store.writeSpans(all.slice(0, 9));
    await store.writeSpans(all.slice(9));
    const names = store.blockFiles().map((f) => f.name);
    const summaries = await store.findTraces({ limit: 100 });
    await store.close();
    // Turn the files into what the first format wrote: every parent an id, no pdelta column.
    const blocks = join(dataDir, BLOCKS_DIR);
    for (const name of names) {
      const f = `'${join(blocks, name)}'`;
      const old = `'${join(blocks, `${name}.old`)}'`;
      await plainDuckDB(
        `COPY (SELECT r.* EXCLUDE (pid, pdelta, file_row_number), CASE WHEN r.pdelta IS NULL THEN r.pid ELSE p.sid END AS pid ` +
          `FROM read_parquet(${f}, file_row_number = true) r LEFT JOIN read_parquet(${f}, file_row_number = true) p ` +
          `ON p.file_row_number = r.file_row_number - r.pdelta ORDER BY r.file_row_number) TO ${old} (FORMAT parquet)`,
      );
      copyFileSync(join(blocks, `${name}.old`), join(blocks, name));
    }
    const manifest = JSON.parse(readFileSync(join(blocks, 'manifest.json'), 'utf8')) as { version: number; files: Record<string, unknown>[] };
    manifest.version = 1;
    for (const f of manifest.files) {
      delete f.format;
      delete f.maxStart;
    }
    writeFileSync(join(blocks, 'manifest.json'), JSON.stringify(manifest));
    const old = await plainDuckDB(`SELECT count(*)::INTEGER FROM read_parquet('${join(blocks, names[0]!)}') WHERE pid IS NOT NULL`);
    assert.deepStrictEqual(old, [[6]], 'the first format holds every parent as an id');
    store = await open(dataDir);
    try {
      const expected = [0, 1, 2, 3, 4, 5].map((t) => all.filter((s) => s.traceId === traceIdOf(t)));
      assert.deepStrictEqual(await store.getTraces([0, 1, 2, 3, 4, 5].map(traceIdOf)), expected);
      assert.deepStrictEqual(await store.findTraces({ limit: 100 }), summaries);
      // A new micro-block (format 2) read together with the old ones.
      const more = traces(6, 8, 3);
      await store.writeSpans(more);
      assert.deepStrictEqual(await store.getTraces([traceIdOf(0), traceIdOf(7)]), [expected[0], more.slice(3)]);
      await store.compact();
      assert.deepStrictEqual(store.blockFiles().map((f) => f.format), [2]);
      assert.deepStrictEqual(await store.getTraces([0, 1, 2, 3, 4, 5].map(traceIdOf)), expected);
    } finally {
      await store.close();
    }
  });
  it('reads only the files whose trace index holds the id, also for random ids whose key ranges overlap', async () => {
    const dataDir = freshDir();
    // Random-looking ids (not time-prefixed): every micro-block's key range covers the others' ids.
    const ids = ['1a', '9b', '5c', 'ed', '33', 'c4'].map((p) => `${p}${'5'.repeat(30)}`);
    const of = (t: number): Span[] => traces(t, t + 1, 2).map((s) => ({ ...s, traceId: ids[t]! }));
    let store = await open(dataDir);
    try {
      await store.writeSpans([...of(0), ...of(1)]);
      await store.writeSpans([...of(2), ...of(3)]);
      await store.writeSpans([...of(4), ...of(5)]);
      const [b1, b2, b3] = store.blockFiles();
      assert.ok(b1!.minKey < ids[2]! && b1!.maxKey > ids[2]!, 'the key ranges overlap');
      const holding = (s: BlockStore, id: string): string[] => s.blockFiles().filter((f) => s['mayHoldOne'](f, [id])).map((f) => f.name);
      assert.deepStrictEqual(holding(store, ids[2]!), [b2!.name]);
      assert.deepStrictEqual(holding(store, ids[5]!), [b3!.name]);
      assert.deepStrictEqual(holding(store, `77${'5'.repeat(30)}`), []);
      await store.close();
      // Rebuilt from the files at open.
      store = await open(dataDir);
      assert.deepStrictEqual(holding(store, ids[1]!), [b1!.name]);
      assert.deepStrictEqual(await store.getTrace(ids[3]!), of(3));
      await store.compact();
      const [c] = store.blockFiles();
      assert.deepStrictEqual(holding(store, ids[4]!), [c!.name]);
      assert.deepStrictEqual(await store.getTraces([ids[0]!, ids[5]!]), [of(0), of(5)]);
    } finally {
      await store.close();
    }
  });
  it('searches the newest spans first and reads older ones only when they could hold newer hits', async () => {
    const store = await open(freshDir(), { searchRows: 1 });
    const everything = await open(freshDir(), { searchRows: Infinity });
    try {
      for (let b = 0; b < 6; b++) {
        await store.writeSpans(traces(b * 10, b * 10 + 10));
        await everything.writeSpans(traces(b * 10, b * 10 + 10));
      }
      // A late span of an old trace, written last but starting early: its file is read late.
      const late = { ...traces(1, 2, 1)[0]!, spanId: 'ab'.repeat(8), startUs: T0 + 5 };
      await store.writeSpans([late]);
      await everything.writeSpans([late]);
      const reads: number[] = [];
      const hits = store['searchHits'].bind(store);
      store['searchHits'] = (c: unknown, snap: { files: readonly unknown[] }, ...rest: unknown[]) => {
        reads.push(snap.files.length);
        return (hits as (...a: unknown[]) => Promise<unknown[][]>)(c, snap, ...rest);
      };
      const queries = [{ limit: 3 }, { service: 'svc-1', limit: 2 }, { limit: 25 }, { service: 'svc-2', limit: 100 }, { attributes: { n: 1 }, limit: 5 }];
      for (const q of queries) {
        reads.length = 0;
        assert.deepStrictEqual(await store.findTraces(q), await everything.findTraces(q), JSON.stringify(q));
        if (q.limit === 3) assert.deepStrictEqual(reads, [1], 'the newest file alone holds the 3 newest traces');
        // Slices of start times (search-window.ts): a file is read by the slices its starts fall in.
        if (q.limit === 100) assert.ok(reads.length > 1 && reads.reduce((a, b) => a + b, 0) <= 7 + reads.length - 1, 'too few hits: every file read, in rounds');
      }
    } finally {
      await store.close();
      await everything.close();
    }
  });

  it('takes a search hit\'s summary from its file\'s trace summaries, and from the records when the trace spans files', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      // Trace 1 gets a span in each of two compactions: split over two files.
      await store.writeSpans(traces(0, 3));
      await store.compact();
      await store.writeSpans([{ ...traces(1, 2, 1)[0]!, spanId: 'ab'.repeat(8), startUs: T0 + 15 }, ...traces(3, 5)]);
      await store.compact();
      const files = store.blockFiles();
      assert.ok(files.length === 2 && files.every((f) => f.traces === true), JSON.stringify(files));
      // The summaries file is what a search reads: a root name changed there shows in the answer.
      const first = join(dataDir, BLOCKS_DIR, `${files[0]!.name}.traces.parquet`);
      const edited = `${first}.edited`;
      await plainDuckDB(`COPY (SELECT * REPLACE (CASE WHEN root_name IS NOT NULL THEN 'from-summaries' END AS root_name) FROM read_parquet('${first}')) TO '${edited}' (FORMAT parquet)`);
      copyFileSync(edited, first);
      const hits = await store.findTraces({ limit: 10 });
      const byId = new Map(hits.map((h) => [h.traceId, h]));
      assert.equal(byId.get(traceIdOf(0))!.root!.name, 'from-summaries');
      assert.equal(byId.get(traceIdOf(0))!.spanCount, 3);
      // In two files: computed from its records (4 spans, the real root), not one file's row.
      assert.equal(byId.get(traceIdOf(1))!.spanCount, 4);
      assert.notEqual(byId.get(traceIdOf(1))!.root!.name, 'from-summaries');
      assert.equal(byId.get(traceIdOf(4))!.spanCount, 3);
      // A trace deleted and written again: its summary counts the new spans only.
      await store.deleteTraces([traceIdOf(2)]);
      await store.writeSpans(traces(2, 3, 2));
      await store.compact();
      assert.equal((await store.findTraces({ limit: 10 })).find((h) => h.traceId === traceIdOf(2))!.spanCount, 2);
      // A micro-block's summaries: computed by the first search that needs them, then kept (trace 3,
      // now also in the micro-block, is computed from its records: 4 spans).
      await store.writeSpans([...traces(10, 12), { ...traces(3, 4, 1)[0]!, spanId: 'cd'.repeat(8), startUs: T0 + 200 }]);
      const micro = store.blockFiles().find((f) => f.level === 0)!;
      const kept = store['set'].summaries;
      assert.equal(kept.has(micro.name), false);
      const recent = await store.findTraces({ limit: 3 });
      assert.deepStrictEqual(recent.map((h) => [h.traceId, h.spanCount]), [[traceIdOf(11), 3], [traceIdOf(10), 3], [traceIdOf(3), 4]]);
      const rows = kept.get(micro.name)!;
      assert.ok(rows.has(traceIdOf(11)));
      rows.get(traceIdOf(11))![7] = 'from-memory';
      assert.equal((await store.findTraces({ limit: 3 }))[0]!.root!.name, 'from-memory');
    } finally {
      await store.close();
    }
  });
  it('reads the traces of the newest micro-blocks from the head, as their files give them', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    const noHead = await open(freshDir(), { headRows: 0 });
    const t64 = 'ab'.repeat(8);
    // Every field, a 64-bit id, a start record, a parent in another block (an id, not a position),
    // an attribute key promoted to a column between the blocks.
    const batches: Span[][] = [
      [fullSpan(traceIdOf(1), spanIdOf(1, 0)), fullSpan(traceIdOf(1), spanIdOf(1, 1), spanIdOf(1, 0)), { ...span({ traceId: t64, spanId: spanIdOf(2, 0) }) }, ...traces(3, 6)],
      [fullSpan(traceIdOf(1), spanIdOf(1, 2), spanIdOf(1, 1)), startRecordOf(fullSpan(traceIdOf(2), spanIdOf(2, 5))), ...traces(6, 9)],
    ];
    const ids = [traceIdOf(1), t64, traceIdOf(2), ...Array.from({ length: 6 }, (_, i) => traceIdOf(3 + i)), traceIdOf(99)];
    try {
      for (const b of batches) {
        await store.writeSpans(b);
        await noHead.writeSpans(b);
      }
      const expected = await noHead.getTraces(ids);
      assert.equal(expected[0]!.length, 3);
      // The head answers without the files: they are gone from disk, the answer is the same.
      const paths = store.blockFiles().map((f) => join(dataDir, BLOCKS_DIR, f.name));
      for (const p of paths) renameSync(p, `${p}.aside`);
      assert.deepStrictEqual(await store.getTraces(ids), expected);
      for (const p of paths) renameSync(`${p}.aside`, p);
      // A tombstone hides a head trace's records; records written after it show.
      await store.deleteTraces([traceIdOf(4)]);
      assert.deepStrictEqual(await store.getTrace(traceIdOf(4)), []);
      await store.writeSpans(traces(4, 5, 1));
      assert.equal((await store.getTrace(traceIdOf(4))).length, 1);
    } finally {
      await store.close();
      await noHead.close();
    }
  });

  it('reads a trace from a head block and an older file with fewer attribute columns', async () => {
    const store = await open(freshDir(), { attributeColumns: { sampleEvery: 1, window: 1, minShare: 0.01 } });
    try {
      const [a, b] = traces(1, 2, 2);
      await store.writeSpans([{ ...a!, attributes: { first: 'x' } }]);
      await store.compact();
      await store.writeSpans([{ ...b!, attributes: { second: 'y' } }]);
      const [file, micro] = store.blockFiles();
      assert.ok(file!.slots < micro!.slots && store['set'].head.has(micro!.name) && !store['set'].head.has(file!.name));
      assert.deepStrictEqual((await store.getTrace(traceIdOf(1))).map((s) => s.attributes), [{ first: 'x' }, { second: 'y' }]);
    } finally {
      await store.close();
    }
  });

  it('compacts micro-blocks in JS into the rows, parents and summaries DuckDB writes from the same input', async () => {
    const dirs = { js: freshDir(), duckdb: freshDir() };
    const stores = { js: await open(dirs.js, { jsCompaction: true }), duckdb: await open(dirs.duckdb) };
    try {
      let nowMs = 5_000;
      for (const batch of compactionBatches()) {
        for (const store of Object.values(stores)) await store.writeSpans(batch, { arrivedUs: nowMs * 1000 });
        nowMs += 1_000;
      }
      for (const store of Object.values(stores)) await store.compact();
      assert.deepStrictEqual(await writersOf(dirs.js, stores.js), [PARQUET_CREATED_BY]);
      assert.deepStrictEqual(await writersOf(dirs.duckdb, stores.duckdb), ['duckdb']);
      const [js] = stores.js.blockFiles();
      const [dk] = stores.duckdb.blockFiles();
      // The manifest entries agree but for the name and the size.
      assert.deepStrictEqual({ ...js!, name: '', bytes: 0 }, { ...dk!, name: '', bytes: 0 });
      const jsPath = join(dirs.js, BLOCKS_DIR, js!.name);
      const dkPath = join(dirs.duckdb, BLOCKS_DIR, dk!.name);
      const jsRows = await fileRows(jsPath, js!.slots);
      assert.equal(jsRows.length, js!.rows);
      // Same rows in the same order, so the same parent positions and ids.
      assert.deepStrictEqual(jsRows, await fileRows(dkPath, dk!.slots));
      assert.ok(jsRows.some((r) => r[26] !== null && r[4] === null) && jsRows.some((r) => r[4] !== null), 'parents both as positions and as ids');
      const summaries = (p: string) => plainDuckDB(`SELECT * REPLACE (list_sort(services) AS services) FROM read_parquet('${p}.traces.parquet') ORDER BY tid_hi, tid_lo`);
      assert.deepStrictEqual(await summaries(jsPath), await summaries(dkPath));
      // Reads agree: every trace, with its parents, and a search.
      const ids = [...new Set(compactionBatches().flat().map((s) => s.traceId))];
      assert.deepStrictEqual(await stores.js.getTraces(ids), await stores.duckdb.getTraces(ids));
      const query = { limit: 50 };
      assert.deepStrictEqual(await stores.js.findTraces(query), await stores.duckdb.findTraces(query));
    } finally {
      for (const store of Object.values(stores)) await store.close();
    }
  });

  it('compacts in DuckDB when the JS compaction cannot: inputs not in the head, tombstones to apply', async () => {
    const cases: [string, Omit<BlockStoreOptions, 'dataDir'>, (s: BlockStore) => Promise<unknown>, string][] = [
      ['all in the head', {}, () => Promise.resolve(), PARQUET_CREATED_BY],
      ['no head', { headRows: 0 }, () => Promise.resolve(), 'duckdb'],
      ['oldest blocks left the head', { headRows: 60 }, () => Promise.resolve(), 'duckdb'],
      ['a tombstone to apply', {}, (s) => s.deleteTraces([traceIdOf(3)]), 'duckdb'],
    ];
    for (const [what, options, before, writer] of cases) {
      const dataDir = freshDir();
      const store = await open(dataDir, { jsCompaction: true, ...options });
      try {
        for (let b = 0; b < 4; b++) await store.writeSpans(traces(b * 10, b * 10 + 10));
        await before(store);
        await store.compact();
        assert.deepStrictEqual(await writersOf(dataDir, store), [writer], what);
        const ids = Array.from({ length: 40 }, (_, t) => traceIdOf(t));
        const got = await store.getTraces(ids);
        got.forEach((spans, t) => assert.equal(spans.length, what.startsWith('a tombstone') && t === 3 ? 0 : 3, `${what}: trace ${t}`));
        assert.equal(store.pendingTombstones, 0, what);
      } finally {
        await store.close();
      }
    }
  });

  it('refuses a headRows that is not an integer ≥ 0', async () => {
    for (const headRows of [-1, 1.5, Number.NaN]) await assert.rejects(open(freshDir(), { headRows }), /headRows must be an integer/);
  });

  it('keeps at most headRows spans in the head, the oldest blocks leaving first', async () => {
    const store = await open(freshDir(), { headRows: 70 });
    try {
      for (let b = 0; b < 5; b++) await store.writeSpans(traces(b * 10, b * 10 + 10));
      const head = store['set'].head;
      assert.equal(head.size, 60);
      const names = store.blockFiles().map((f) => f.name);
      assert.deepStrictEqual(names.map((n) => head.has(n)), [false, false, false, true, true]);
      await assertAllOnce(store, 50);
      // Compaction swaps the micro-blocks out: their head blocks go with them.
      await store.compact();
      assert.equal(head.size, 0);
      await assertAllOnce(store, 50);
    } finally {
      await store.close();
    }
  });

  it('keeps rest keys with separator characters as written, and finds them', async () => {
    const store = await open(freshDir());
    try {
      const odd = 'odd\x1fkey\x1b\x00';
      const [a, b] = traces(1, 3, 1);
      await store.writeSpans([{ ...a!, attributes: { [odd]: 'v' } }, { ...b!, attributes: { plain: 'w' } }]);
      assert.deepStrictEqual(store.blockFiles()[0]!.restKeys, [odd, 'plain'].sort());
      assert.deepStrictEqual((await store.findTraces({ attributes: { [odd]: 'v' }, limit: 5 })).map((t) => t.traceId), [traceIdOf(1)]);
    } finally {
      await store.close();
    }
  });

  it('keeps the keys each file\'s rest lists hold, tests rest only where a key may be, and still finds it there', async () => {
    const dataDir = freshDir();
    // `k` is promoted after 16 sampled spans: the first batch keeps it in `rest`, later ones in its column.
    const options = { attributeColumns: { sampleEvery: 1, window: 16, minShare: 0.5, maxColumns: 1 } };
    let store = await open(dataDir, options);
    const withAttrs = (from: number, to: number, attrs: (t: number) => Record<string, string>): Span[] =>
      traces(from, to, 1).map((s, i) => ({ ...s, attributes: attrs(from + i) }));
    const found = async (attributes: Record<string, string>): Promise<string[]> => (await store.findTraces({ attributes, limit: 20 })).map((t) => t.traceId);
    try {
      await store.writeSpans(withAttrs(0, 4, (t) => ({ k: `v${t}` })));
      await store.compact();
      await store.writeSpans(withAttrs(4, 40, (t) => ({ k: `v${t}` })));
      await store.writeSpans(withAttrs(40, 44, (t) => ({ k: `v${t}` })));
      // `late` never gets a column (one at most, taken by `k`): it sits in the rest of the newest file only.
      await store.writeSpans(withAttrs(44, 46, (t) => ({ k: `v${t}`, late: `w${t}` })));
      const [old, mixed, after, newest] = store.blockFiles();
      assert.deepStrictEqual([old!.restKeys, after!.restKeys, newest!.restKeys], [['k'], [], ['late']]);
      assert.ok(mixed!.restKeys!.includes('k'), 'the batch that promoted k holds it in rest before the promotion');
      // Which files a search tests `rest` on for `k`: the files whose rest may hold it, no other.
      const tested: [string[], boolean][] = [];
      const inner = store['searchHitsIn'].bind(store);
      store['searchHitsIn'] = (c: unknown, snap: { files: readonly { name: string }[] }, q: unknown, slotOf: unknown, hints: { restMayHold(k: string): boolean }) => {
        tested.push([snap.files.map((f) => f.name).sort(), hints.restMayHold('k')]);
        return (inner as (...a: unknown[]) => Promise<unknown[][]>)(c, snap, q, slotOf, hints);
      };
      assert.deepStrictEqual(await found({ k: 'v1' }), [traceIdOf(1)]);
      assert.deepStrictEqual(
        tested.sort((a, b) => Number(a[1]) - Number(b[1])),
        [[[after!.name, newest!.name].sort(), false], [[old!.name, mixed!.name].sort(), true]],
      );
      assert.deepStrictEqual(await found({ k: 'v41' }), [traceIdOf(41)]);
      assert.deepStrictEqual(await found({ late: 'w45' }), [traceIdOf(45)], 'a key in the rest of a newer file only');
      assert.deepStrictEqual(await found({ k: 'v44', late: 'w44' }), [traceIdOf(44)]);
      // Hits from several groups are merged newest first, as one scan orders them.
      const many = await store.findTraces({ attributes: { k: 'v2' }, limit: 5 });
      assert.deepStrictEqual(many.map((t) => t.traceId), [traceIdOf(2)]);
      // Compaction keeps the union of its inputs' keys (the micro-blocks merged; the older file stays).
      await store.compact();
      const files = store.blockFiles();
      assert.deepStrictEqual(files.map((f) => f.restKeys), [['k'], ['k', 'late']]);
      assert.deepStrictEqual(await found({ k: 'v1' }), [traceIdOf(1)]);
      assert.deepStrictEqual(await found({ late: 'w45' }), [traceIdOf(45)]);
      await store.close();
      // A manifest without the sets (an older version): every file's rest is tested, nothing is lost.
      const manifestPath = join(dataDir, BLOCKS_DIR, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: { restKeys?: string[] }[] };
      for (const f of manifest.files) delete f.restKeys;
      writeFileSync(manifestPath, JSON.stringify(manifest));
      store = await open(dataDir, options);
      await store.writeSpans(withAttrs(46, 48, (t) => ({ k: `v${t}` })));
      assert.deepStrictEqual(store.blockFiles().map((f) => f.restKeys), [undefined, undefined, []]);
      assert.deepStrictEqual(await found({ k: 'v1' }), [traceIdOf(1)]);
      assert.deepStrictEqual(await found({ late: 'w44' }), [traceIdOf(44)]);
    } finally {
      await store.close();
    }
  });
});

describe('block file rest keys', () => {
  const file = (restKeys?: string[]): BlockFile => ({ name: 'f', rows: 1, bytes: 1, level: 0, minKey: '', maxKey: '', minArrived: 0, maxArrived: 0, minBseq: 0, maxBseq: 0, slots: 0, tombApplied: 0, ...(restKeys === undefined ? {} : { restKeys }) });

  it('a merged file knows the union of its inputs\' keys, or nothing when one input does not know its own', () => {
    assert.deepStrictEqual(mergedRestKeys([file(['b', 'a']), file([]), file(['a', 'c'])]), ['a', 'b', 'c']);
    assert.equal(mergedRestKeys([file(['a']), file()]), undefined);
    assert.equal(restMayHold(file(), 'x'), true, 'unknown: tested');
    assert.equal(restMayHold(file(['a']), 'x'), false);
  });

  it('keeps no set past REST_KEYS_LIMIT keys', () => {
    const keys = Array.from({ length: REST_KEYS_LIMIT + 1 }, (_, i) => `k${i}`);
    assert.equal(restKeySet(keys), undefined);
    assert.equal(restKeySet(keys.slice(1))!.length, REST_KEYS_LIMIT);
    assert.equal(mergedRestKeys([file(keys.slice(0, 200)), file(keys.slice(100))]), undefined);
  });
});
