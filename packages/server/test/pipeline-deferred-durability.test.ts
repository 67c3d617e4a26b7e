/**
 * A store that makes writes durable after they resolve (the block store's deferred durability):
 * the pipeline releases a written batch from its queue at once, but confirms its log record only
 * once the store says the batch is durable, in order; stopping makes everything durable and
 * confirms it; a replay makes its batches durable before the log deletes the replayed segments.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { span } from '@linktrace/model/testing';
import { DEFAULT_PIPELINE } from '../src/config.js';
import { WIRE_FORMAT } from '../src/ingest/wire-format.js';
import { IngestPipeline } from '../src/pipeline/ingest-pipeline.js';
import { isWalTag, recoverWal } from '../src/pipeline/replay-wal.js';
import { WriteAheadLog } from '../src/wal/write-ahead-log.js';
import { tempDir } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

/** Written spans are durable only when the test says so (or when asked to make them durable now). */
class DeferringStore extends MemoryStore {
  readonly defersDurability = true;
  private waiting: (() => void)[] = [];
  durableNowCalls = 0;
  whenDurable(now = false): Promise<void> {
    if (now) {
      this.durableNowCalls++;
      this.makeDurable();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  makeDurable(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

function batch(n: number): Span[] {
  return [span({ traceId: TRACE, spanId: n.toString(16).padStart(16, '0') })];
}

const body = (spans: Span[]): Buffer => Buffer.from(JSON.stringify(encodeNativeJson(spans)));

describe('pipeline with a store that defers durability', () => {
  it('confirms the log only once the store made the batch durable; stop makes it so', async () => {
    const dir = await tempDir();
    const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 24, isValidTag: isWalTag });
    const store = new DeferringStore();
    const pipeline = new IngestPipeline(store, wal, DEFAULT_PIPELINE);
    try {
      pipeline.start();
      await pipeline.accept(WIRE_FORMAT.nativeJson, body(batch(1)), batch(1));
      await pipeline.accept(WIRE_FORMAT.nativeJson, body(batch(2)), batch(2));
      await pipeline.idle();
      await settle();
      assert.equal(pipeline.backlogSpans, 0, 'written: out of the queue');
      assert.equal((await store.stats()).spanRecords, 2);
      assert.equal(wal.stats().unconfirmed, 2, 'not durable in the store yet: not confirmed');
      store.makeDurable();
      await settle();
      assert.equal(wal.stats().unconfirmed, 0);
      await pipeline.accept(WIRE_FORMAT.nativeJson, body(batch(3)), batch(3));
      await pipeline.idle();
      await settle();
      assert.equal(wal.stats().unconfirmed, 1);
      const { drained } = await pipeline.stop(10_000);
      assert.equal(drained, true);
      assert.equal(store.durableNowCalls, 1, 'stop asked the store to make it durable now');
      assert.equal(wal.stats().unconfirmed, 0, 'and confirmed it before the log closes');
    } finally {
      await pipeline.stop(10_000);
      await wal.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replay: the replayed batches are made durable before the log deletes them', async () => {
    const dir = await tempDir();
    let wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 24, isValidTag: isWalTag });
    await wal.append(WIRE_FORMAT.nativeJson, body(batch(7)), Date.now());
    await wal.close();
    wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 24, isValidTag: isWalTag });
    const store = new DeferringStore();
    const pipeline = new IngestPipeline(store, wal, DEFAULT_PIPELINE);
    try {
      const report = await recoverWal(wal, (spans, arrivedUs) => pipeline.restore(spans, arrivedUs), 1000, () => {}, () => pipeline.makeDurable());
      assert.equal(report.spans, 1);
      assert.equal(store.durableNowCalls, 1);
    } finally {
      await wal.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
