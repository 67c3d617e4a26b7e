import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { traceIdOf } from '../src/contract/contract-spans.js';
import { BLOCKS_DIR, openBlockStore } from '../src/blocks/block-store.js';
import type { BlockStore, BlockStoreOptions } from '../src/blocks/block-store.js';
import type { BlockColumns } from '../src/blocks/block-columns.js';
import { DeferredHead, estimatedBytes } from '../src/blocks/deferred-head.js';
import type { BlockFile } from '../src/blocks/manifest.js';
import { assertAllOnce, traces } from './support/block-traces.js';
import { freshDirs } from './support/store-files.js';

const freshDir = freshDirs('lt-deferred-head-');

/** The files the manifest names (what survives a crash). */
function manifestFiles(dataDir: string): BlockFile[] {
  try {
    return (JSON.parse(readFileSync(join(dataDir, BLOCKS_DIR, 'manifest.json'), 'utf8')) as { files: BlockFile[] }).files;
  } catch {
    return [];
  }
}

const parquetFiles = (dataDir: string): string[] => readdirSync(join(dataDir, BLOCKS_DIR)).filter((n) => n.endsWith('.parquet') && !n.endsWith('.traces.parquet'));

function open(dataDir: string, options: Omit<BlockStoreOptions, 'dataDir'> = {}): Promise<BlockStore> {
  return openBlockStore({ dataDir, durability: 'deferred', flushRows: 1_000_000, flushBlocks: 1_000, flushAgeMs: 3_600_000, compactFiles: Infinity, compactRows: Infinity, ...options });
}

/** Lets pending promise callbacks and I/O callbacks run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('block store, deferred durability', () => {
  it('answers every query from the head before any file exists', async () => {
    const dir = freshDir();
    const store = await open(dir);
    try {
      await store.writeSpans(traces(0, 10).slice(0, 15));
      await store.writeSpans(traces(0, 10).slice(15));
      assert.deepEqual(parquetFiles(dir), [], 'no file written for a write');
      assert.equal(store.headSpans, 30);
      const got = await store.getTraces([traceIdOf(3), traceIdOf(9)]);
      assert.deepEqual(got.map((t) => t.length), [3, 3]);
      assert.deepEqual(parquetFiles(dir), [], 'a trace lookup reads the head from memory');
      const found = await store.findTraces({ service: 'svc-1', limit: 20 });
      assert.deepEqual(found.map((s) => s.traceId).sort(), [1, 4, 7].map(traceIdOf).sort());
      assert.deepEqual(await store.services(), ['svc-0', 'svc-1', 'svc-2']);
      await assertAllOnce(store, 10);
      assert.deepEqual(manifestFiles(dir), [], 'nothing durable yet');
    } finally {
      await store.close();
    }
  });

  it('writes the head as one sorted file once it holds flushRows spans', async () => {
    const dir = freshDir();
    const store = await open(dir, { flushRows: 30 });
    try {
      await store.writeSpans(traces(5, 10));
      await store.writeSpans(traces(0, 5));
      await store.whenDurable();
      const files = manifestFiles(dir);
      assert.equal(files.length, 1);
      assert.equal(files[0]!.rows, 30);
      assert.equal(files[0]!.level, 1, 'a full head is not compacted again');
      assert.equal(files[0]!.traces, true, 'with its trace summaries, as compaction writes them');
      assert.equal(files[0]!.minKey.endsWith(traceIdOf(0)), true);
      assert.equal(store.headSpans, 0);
      await assertAllOnce(store, 10);
    } finally {
      await store.close();
    }
  });

  it('writes a head whose oldest spans reached flushAgeMs (store clock)', async () => {
    const dir = freshDir();
    let now = 1_000_000;
    const store = await open(dir, { flushAgeMs: 10_000, clock: () => now });
    try {
      await store.writeSpans(traces(0, 2));
      let durable = false;
      const done = store.whenDurable().then(() => (durable = true));
      now += 5_000;
      await store.writeSpans(traces(2, 4));
      await settle();
      assert.equal(durable, false, 'not old enough yet');
      assert.deepEqual(manifestFiles(dir), []);
      now += 6_000;
      // The next write (or the age timer) finds the head due.
      await store.writeSpans(traces(4, 5));
      await done;
      const files = manifestFiles(dir);
      assert.equal(files.length, 1);
      assert.equal(files[0]!.rows, 15, 'the whole head, in one file');
      assert.equal(files[0]!.level, 0, 'a small file is left to compaction');
      await assertAllOnce(store, 5);
    } finally {
      await store.close();
    }
  });

  it('writes the head on close; reopened, every span reads once', async () => {
    const dir = freshDir();
    const store = await open(dir);
    await store.writeSpans(traces(0, 6));
    await store.findTraces({ limit: 5 }); // the head blocks get scratch files
    await store.close();
    assert.equal(manifestFiles(dir).length, 1);
    assert.deepEqual(parquetFiles(dir), [manifestFiles(dir)[0]!.name], 'no scratch file left');
    const again = await openBlockStore({ dataDir: dir });
    try {
      await assertAllOnce(again, 6);
    } finally {
      await again.close();
    }
  });

  it('keeps nothing of the head after a crash before it is written (the caller replays it)', async () => {
    const dir = freshDir();
    const copy = freshDir();
    const store = await open(dir, { flushRows: 9 });
    try {
      await store.writeSpans(traces(0, 3));
      await store.whenDurable();
      await store.writeSpans(traces(3, 5));
      await store.services(); // a scratch file for the head block
      // The directory as a crash would leave it: the written head, the unwritten one's scratch file.
      cpSync(dir, copy, { recursive: true });
    } finally {
      await store.close();
    }
    const after = await open(copy);
    try {
      assert.equal((await after.stats()).spanRecords, 9);
      assert.deepEqual((await after.getTrace(traceIdOf(3))).length, 0);
      // Replayed (as the server's log does): every span once.
      await after.writeSpans(traces(3, 5));
      await assertAllOnce(after, 5);
    } finally {
      await after.close();
    }
  });

  it('flush() and whenDurable(true) write the head now; retention of head blocks counts as durable', async () => {
    const dir = freshDir();
    let now = 2_000_000;
    const store = await open(dir, { clock: () => now });
    try {
      await store.writeSpans(traces(0, 2));
      await store.whenDurable(true);
      assert.equal(manifestFiles(dir).length, 1);
      await store.writeSpans(traces(2, 4));
      await store.flush();
      assert.equal(manifestFiles(dir).length, 2);
      now += 1000;
      await store.writeSpans(traces(4, 6));
      const durable = store.whenDurable();
      const removed = await store.deleteBefore(now * 1000 + 1);
      assert.equal(removed.spans, 18);
      await durable;
      assert.equal((await store.stats()).spanRecords, 0);
    } finally {
      await store.close();
    }
  });

  it('merges small head files by compaction only once several wait', async () => {
    const dir = freshDir();
    const store = await open(dir, { compactFiles: 3 });
    try {
      for (let i = 0; i < 2; i++) {
        await store.writeSpans(traces(i * 2, i * 2 + 2));
        await store.flush();
      }
      assert.equal(manifestFiles(dir).length, 2, 'two small files wait');
      await store.writeSpans(traces(4, 6));
      await store.flush();
      // The third starts a compaction; close waits for it.
    } finally {
      await store.close();
    }
    const files = manifestFiles(dir);
    assert.equal(files.length, 1);
    assert.equal(files[0]!.rows, 18);
  });

  it('makes writes wait for room in the head (backpressure)', async () => {
    const dir = freshDir();
    const store = await open(dir);
    try {
      const head = (store as unknown as { deferred: DeferredHead }).deferred;
      let release: () => void = () => {};
      head.room = () => new Promise<void>((resolve) => (release = resolve));
      let written = false;
      const write = store.writeSpans(traces(0, 2)).then(() => (written = true));
      await settle();
      assert.equal(written, false, 'no room: the write waits');
      assert.equal(store.headSpans, 0);
      release();
      await write;
      assert.equal(store.headSpans, 6);
    } finally {
      await store.close();
    }
  });

  it('hides head spans a tombstone names, in the head and in the file it is written to', async () => {
    const dir = freshDir();
    const store = await open(dir);
    try {
      await store.writeSpans(traces(0, 4));
      assert.deepEqual(await store.deleteTraces([traceIdOf(1)]), { spans: 3, findings: 0 });
      assert.equal((await store.getTrace(traceIdOf(1))).length, 0);
      await store.flush();
      assert.equal(manifestFiles(dir)[0]!.rows, 9);
      assert.equal((await store.getTrace(traceIdOf(1))).length, 0);
      assert.equal((await store.getTrace(traceIdOf(2))).length, 3);
    } finally {
      await store.close();
    }
  });
});

describe('deferred head book-keeping', () => {
  const block = (rows: number): BlockColumns => ({ rows, columnData: [{ name: 'sid', data: new BigUint64Array(rows) }] }) as unknown as BlockColumns;
  const file = (name: string): BlockFile => ({ name }) as BlockFile;

  it('makes writes wait while a full head waits beside the one being written', async () => {
    let now = 0;
    const head = new DeferredHead({ dir: '/nonexistent', flushRows: 10, flushBytes: Infinity, flushBlocks: Infinity, flushAgeMs: 1000, clock: () => now });
    head.add('a', block(10), 1);
    assert.equal(head.due(), true);
    await head.room(); // full, but nothing being written: the write that finds it due starts one
    const taken = head.take([file('a')]);
    assert.deepEqual(taken.map((f) => f.name), ['a']);
    const durableA = head.whenDurable();
    head.add('b', block(6), 2);
    await head.room();
    head.add('c', block(4), 3);
    let roomy = false;
    const room = head.room().then(() => (roomy = true));
    await settle();
    assert.equal(roomy, false, 'two heads in memory: writes wait');
    head.settle([file('b'), file('c')]); // 'a' written out
    await room;
    await durableA; // b and c came after the call: not waited for
    assert.equal(head.size, 10);
    now = 5000;
    assert.equal(head.due(), true);
  });

  it('resolves whenDurable only once no block numbered up to the mark is left', async () => {
    const head = new DeferredHead({ dir: '/nonexistent', flushRows: 100, flushBytes: Infinity, flushBlocks: Infinity, flushAgeMs: 1000, clock: () => 0 });
    assert.equal(await head.whenDurable(), undefined, 'empty head: at once');
    head.add('a', block(1), 1);
    head.add('b', block(1), 2);
    let first = false;
    const p = head.whenDurable().then(() => (first = true));
    head.add('c', block(1), 3);
    head.settle([file('b'), file('c')]);
    await settle();
    assert.equal(first, false, 'b is still in the head');
    head.settle([file('c')]);
    await p;
  });
});

describe('deferred head block bound', () => {
  it('is due once it holds flushBlocks blocks, however small', () => {
    const block = { rows: 1, columnData: [{ name: 'sid', data: new BigUint64Array(1) }] } as unknown as BlockColumns;
    const head = new DeferredHead({ dir: '/nonexistent', flushRows: 1_000_000, flushBytes: Infinity, flushBlocks: 3, flushAgeMs: 3_600_000, clock: () => 0 });
    head.add('a', block, 1);
    head.add('b', block, 2);
    assert.equal(head.due(), false);
    head.add('c', block, 3);
    assert.equal(head.due(), true);
    head.take([{ name: 'a' } as BlockFile, { name: 'b' } as BlockFile, { name: 'c' } as BlockFile]);
    assert.equal(head.due(), false, 'the blocks being written do not count');
  });
});

describe('deferred head byte budget', () => {
  it('estimates a block by its typed arrays and sampled texts, and is due past flushBytes', () => {
    const texts = Array.from({ length: 64 }, () => 'x'.repeat(100));
    const block = { rows: 64, columnData: [{ name: 'sid', data: new BigUint64Array(64) }, { name: 'name', data: texts }] } as unknown as BlockColumns;
    // 512 bytes of ids; 64 slots of 8 bytes; texts sampled one in 16: 4 × 116 × 16.
    assert.equal(estimatedBytes(block), 512 + 512 + 4 * 116 * 16);
    const head = new DeferredHead({ dir: '/nonexistent', flushRows: 1_000_000, flushBytes: 10_000, flushBlocks: Infinity, flushAgeMs: 3_600_000, clock: () => 0 });
    head.add('a', block, 1);
    assert.equal(head.due(), false);
    head.add('b', block, 2);
    assert.equal(head.heapBytes, 2 * estimatedBytes(block));
    assert.equal(head.due(), true, 'over the byte budget though far under the row bound');
  });
});

