/**
 * The block store's read paths of issue 12 ("reads stay fast"): trace lookups planned from row-group
 * statistics (lookup-plan.ts), searches in start-time windows (search-window.ts), the newest
 * files' trace summaries in memory. Each is checked against what a plain read gives.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Span } from '@linktrace/model';
import { span, spanIdOf, T0, traceIdOf } from '../src/contract/contract-spans.js';
import { BLOCKS_DIR, openBlockStore } from '../src/blocks/block-store.js';
import type { BlockStore, BlockStoreOptions } from '../src/blocks/block-store.js';
import { columnExpr, groupsHolding, readFooterFacts } from '../src/blocks/lookup-plan.js';
import type { RowGroupFacts } from '../src/blocks/lookup-plan.js';
import { PromiseLru } from '../src/blocks/promise-lru.js';
import { SummaryCache } from '../src/blocks/summary-cache.js';
import { nextWindowRows, searchCutoffs } from '../src/blocks/search-window.js';
import { openEmbeddedStore } from '../src/embedded/embedded-store.js';
import type { TraceQuery } from '../src/types.js';
import { realisticSpans } from './support/realistic-spans.js';
import { freshDirs } from './support/store-files.js';

const freshDir = freshDirs('lt-block-reads-');

async function open(dataDir: string, options: Omit<BlockStoreOptions, 'dataDir'> = {}): Promise<BlockStore> {
  return openBlockStore({ dataDir, compactFiles: Infinity, compactRows: Infinity, headRows: 0, ...options });
}

/** A trace of `n` spans, each the child of the one before (a parent position in the row before, once sorted). */
function chain(t: number, n: number, startUs = T0 + t * 1000): Span[] {
  return Array.from({ length: n }, (_, i) =>
    span({
      traceId: traceIdOf(t),
      spanId: spanIdOf(t, i),
      ...(i > 0 ? { parentSpanId: spanIdOf(t, i - 1) } : {}),
      service: `svc-${i % 2}`,
      startUs: startUs + i,
      attributes: { n: i },
    }),
  );
}

function assertChain(got: readonly Span[], t: number, n: number): void {
  assert.equal(got.length, n, `trace ${t}: ${got.length} spans`);
  const byId = new Map(got.map((s) => [s.spanId, s]));
  for (let i = 0; i < n; i++) {
    const s = byId.get(spanIdOf(t, i));
    assert.ok(s !== undefined, `span ${i} of trace ${t}`);
    assert.equal(s.parentSpanId, i > 0 ? spanIdOf(t, i - 1) : undefined);
    assert.equal(s.attributes.n, i);
  }
}

function compactedFiles(store: BlockStore, dataDir: string): string[] {
  return store
    .blockFiles()
    .filter((f) => f.level === 1)
    .map((f) => join(dataDir, BLOCKS_DIR, f.name));
}

async function footerFacts(path: string): Promise<RowGroupFacts[]> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    try {
      return await readFooterFacts(c, path);
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

describe('block store reads: lookups planned from row-group statistics', () => {
  it('reads a trace spanning two row groups of a compacted file whole, its parents resolved', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      // 20 000 spans: more than one 16 384-row group, whatever the neighbours.
      await store.writeSpans([...chain(1, 100), ...chain(2, 20_000), ...chain(3, 100)]);
      await store.compact();
      const [path] = compactedFiles(store, dataDir);
      const groups = await footerFacts(path!);
      assert.ok(groups.length >= 2);
      const hi = BigInt(`0x${traceIdOf(2).slice(0, 16)}`);
      assert.ok(groupsHolding(groups, [hi]).length >= 2, 'the long trace is in two row groups');
      assertChain(await store.getTrace(traceIdOf(2)), 2, 20_000);
      assertChain(await store.getTrace(traceIdOf(3)), 3, 100);
    } finally {
      await store.close();
    }
  });

  it('reads a trace from two compacted files, and from a micro-block and a file', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      const spans = chain(5, 30);
      await store.writeSpans(spans.slice(0, 10));
      await store.compact();
      await store.writeSpans(spans.slice(10, 20));
      await store.compact();
      assert.equal(compactedFiles(store, dataDir).length, 2);
      await store.writeSpans(spans.slice(20));
      await store.flush();
      assert.ok(store.blockFiles().some((f) => f.level === 0));
      assertChain(await store.getTrace(traceIdOf(5)), 5, 30);
    } finally {
      await store.close();
    }
  });

  it('reads a trace from the head and a file alike', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir, { headRows: 1_000 });
    try {
      const spans = chain(6, 20);
      await store.writeSpans(spans.slice(0, 10));
      await store.compact();
      await store.writeSpans(spans.slice(10));
      await store.flush();
      assertChain(await store.getTrace(traceIdOf(6)), 6, 20);
    } finally {
      await store.close();
    }
  });

  it('hides tombstoned traces, also in row groups it plans, and shows what was written after', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      await store.writeSpans([...chain(7, 50), ...chain(8, 50)]);
      await store.compact();
      await store.deleteTraces([traceIdOf(7)]);
      assert.deepEqual(await store.getTrace(traceIdOf(7)), []);
      assertChain(await store.getTrace(traceIdOf(8)), 8, 50);
      const again = chain(7, 3, T0 + 7_000_000);
      await store.writeSpans(again);
      await store.flush();
      assert.equal((await store.getTrace(traceIdOf(7))).length, 3);
    } finally {
      await store.close();
    }
  });

  it('gives the columns a row group holds NULL or one value in without reading them, as written', async () => {
    const dataDir = freshDir();
    const store = await open(dataDir);
    try {
      const spans = realisticSpans({ count: 20_000 });
      await store.writeSpans(spans);
      await store.compact();
      const [path] = compactedFiles(store, dataDir);
      const groups = await footerFacts(path!);
      // Realistic spans have no status message and one scope per service.
      assert.equal(columnExpr(groups, 'status_msg'), 'NULL AS status_msg');
      assert.equal(columnExpr(groups, 'scope_name'), `'@linktrace/sdk' AS scope_name`);
      assert.equal(columnExpr(groups, 'a99'), 'NULL AS a99', 'a column the file lacks');
      assert.equal(columnExpr(groups, 'service'), 'service AS service');
      const byTrace = new Map<string, Span[]>();
      for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
      const ids = [...byTrace.keys()].filter((_, i) => i % 97 === 0);
      const got = await store.getTraces(ids);
      ids.forEach((id, i) => {
        const want = byTrace.get(id)!;
        const mine = new Map(got[i]!.map((s) => [s.spanId, s]));
        assert.equal(mine.size, want.length);
        for (const w of want) {
          const g = mine.get(w.spanId)!;
          assert.equal(g.scope?.name, w.scope?.name);
          assert.equal(g.status.message, w.status.message);
          assert.deepEqual(g.attributes, w.attributes);
          assert.equal(g.parentSpanId, w.parentSpanId);
        }
      });
    } finally {
      await store.close();
    }
  });

  it('keeps row groups of unknown or contradicting tid_hi statistics', () => {
    const g = (hiMin?: bigint, hiMax?: bigint): RowGroupFacts => ({ rows: 1, hiMin, hiMax, startMin: undefined, startMax: undefined, columns: new Map() });
    const groups = [g(1n, 5n), g(6n, 9n), g(undefined, undefined)];
    assert.deepEqual(groupsHolding(groups, [7n]), [groups[1], groups[2]]);
    assert.deepEqual(groupsHolding(groups, [10n]), [groups[2]]);
  });
});

describe('block store reads: search windows', () => {
  it('cuts windows holding the newest row groups whole, about 4× more each, none covering every group', () => {
    const groups = [100, 200, 300, 400, 500].map((startMax) => ({ startMin: startMax - 50, startMax, rows: 10 }));
    assert.deepEqual(searchCutoffs(groups, 10), [
      { cut: 450, rows: 10 },
      { cut: 150, rows: 40 },
    ]);
    // A query starting at 300: a window at or before it is the whole search.
    assert.deepEqual(searchCutoffs(groups, 10, 300), [{ cut: 450, rows: 10 }]);
    // A group of unknown start is in every window; overlapping groups count where they end.
    assert.deepEqual(searchCutoffs([{ startMin: undefined, startMax: undefined, rows: 10 }, ...groups], 10), [{ cut: 250, rows: 40 }]);
    assert.deepEqual(searchCutoffs([{ startMin: 0, startMax: 500, rows: 10 }, ...groups], 10), []);
    assert.equal(nextWindowRows(100, 0, 20), Infinity);
    assert.equal(nextWindowRows(100, 10, 20), 400);
  });

  it('finds what the embedded store finds, window after window, for searches of every kind', async () => {
    const spans = realisticSpans({ count: 40_000 });
    const blocks = await open(freshDir(), { searchRows: 8 });
    const embedded = await openEmbeddedStore({ dataDir: freshDir() });
    try {
      // Three compacted files and a micro-block: windows across files and row groups.
      for (const part of [spans.slice(0, 15_000), spans.slice(15_000, 30_000), spans.slice(30_000, 38_000)]) {
        await blocks.writeSpans(part);
        await blocks.compact();
      }
      await blocks.writeSpans(spans.slice(38_000));
      await blocks.flush();
      await embedded.writeSpans(spans);
      const services = await embedded.services();
      const op = (await embedded.operations(services[0]!))[0]!.name;
      const mid = spans[20_000]!.startUs;
      const queries: TraceQuery[] = [
        { limit: 20 },
        { service: services[0]!, operation: op, limit: 20 },
        { service: services[1]!, limit: 5 },
        { service: services[2]!, startUs: mid - 2_000_000, endUs: mid, limit: 10 },
        { endUs: mid, limit: 30 },
        { service: services[3]!, status: 'error', limit: 20 },
        { attributes: { 'linktrace.entity.key': spans[123]!.attributes['linktrace.entity.key']! as string }, limit: 20 },
        { attributes: { 'http.method': 'GET' }, limit: 20 },
        { service: 'no-such-service', limit: 20 },
      ];
      for (const q of queries) assert.deepEqual(await blocks.findTraces(q), await embedded.findTraces(q), JSON.stringify(q));
    } finally {
      await blocks.close();
      await embedded.close();
    }
  });
});

describe('PromiseLru', () => {
  it('keeps the most recently used entries, loads each once, and forgets a failed load', async () => {
    const lru = new PromiseLru<number>(2);
    let loads = 0;
    const load = (v: number) => () => {
      loads++;
      return Promise.resolve(v);
    };
    assert.equal(await lru.get('a', load(1)), 1);
    assert.equal(await lru.get('b', load(2)), 2);
    assert.equal(await lru.get('a', load(9)), 1, 'cached');
    await lru.get('c', load(3));
    assert.equal(lru.has('b'), false, 'least recently used goes');
    assert.equal(lru.has('a'), true);
    assert.equal(loads, 3);
    await assert.rejects(lru.get('d', () => Promise.reject(new Error('no'))));
    await Promise.resolve();
    assert.equal(lru.has('d'), false);
  });
});

describe('SummaryCache', () => {
  it('keeps rows and absences by file and trace, the most recently used first', () => {
    const cache = new SummaryCache(2);
    cache.set('c-1.parquet', 'k1', ['row1']);
    cache.set('c-2.parquet', 'k1', null);
    assert.deepEqual(cache.get('c-1.parquet', 'k1'), ['row1']);
    assert.equal(cache.get('c-2.parquet', 'k1'), null, 'known absent');
    assert.equal(cache.get('c-1.parquet', 'k2'), undefined, 'not known');
    cache.set('c-3.parquet', 'k1', ['row3']);
    assert.equal(cache.get('c-1.parquet', 'k1'), undefined, 'least recently used went');
    assert.equal(cache.size, 2);
  });
});

describe('block store reads: summaries of hits', () => {
  it('gives the same summaries from its cache as read, and none of a trace deleted since', async () => {
    const spans = realisticSpans({ count: 6_000 });
    const store = await open(freshDir());
    const embedded = await openEmbeddedStore({ dataDir: freshDir() });
    try {
      await store.writeSpans(spans);
      await store.compact();
      await embedded.writeSpans(spans);
      const q: TraceQuery = { service: (await embedded.services())[0]!, limit: 10 };
      const first = await store.findTraces(q);
      assert.deepEqual(first, await embedded.findTraces(q));
      assert.deepEqual(await store.findTraces(q), first, 'from the cache');
      await store.deleteTraces([first[0]!.traceId]);
      await embedded.deleteTraces([first[0]!.traceId]);
      assert.deepEqual(await store.findTraces(q), await embedded.findTraces(q));
    } finally {
      await store.close();
      await embedded.close();
    }
  });
});
