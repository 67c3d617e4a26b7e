/**
 * The pipeline's `onDurable` feed (the federated agent's memory of recent traces): a batch reaches
 * it once its log record is fsynced, before the store has it (the agent's store gathers a second of
 * spans per batch), and the batches replayed from the log at start-up reach it too. A batch the log
 * refused never does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { span } from '@linktrace/model/testing';
import { DEFAULT_PIPELINE } from '../src/config.js';
import { WIRE_FORMAT } from '../src/ingest/wire-format.js';
import { IngestPipeline } from '../src/pipeline/ingest-pipeline.js';
import { isWalTag } from '../src/pipeline/replay-wal.js';
import { WriteAheadLog } from '../src/wal/write-ahead-log.js';
import { tempDir } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

/** A store whose writes wait until the test lets them through. */
class HeldStore extends MemoryStore {
  private held: (() => void)[] = [];
  override async writeSpans(spans: readonly Span[], options?: { arrivedUs?: number }): Promise<void> {
    await new Promise<void>((resolve) => this.held.push(resolve));
    return super.writeSpans(spans, options);
  }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

describe('pipeline onDurable', () => {
  it('feeds a batch once it is in the log, before the store has it; replayed batches too', async () => {
    const dir = await tempDir();
    const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 24, isValidTag: isWalTag });
    const store = new HeldStore();
    const durable: string[] = [];
    const stored: string[] = [];
    const pipeline = new IngestPipeline(store, wal, DEFAULT_PIPELINE, undefined, (s) => stored.push(...s.map((x) => x.spanId)), undefined, Date.now, undefined, (s) =>
      durable.push(...s.map((x) => x.spanId)),
    );
    try {
      pipeline.start();
      const batch = [span({ traceId: TRACE, spanId: '0000000000000001' }), span({ traceId: TRACE, spanId: '0000000000000002' })];
      await pipeline.accept(WIRE_FORMAT.nativeJson, Buffer.from(JSON.stringify(encodeNativeJson(batch))), batch);
      assert.deepEqual(durable, ['0000000000000001', '0000000000000002'], 'acknowledged: fed at once');
      assert.deepEqual(stored, [], 'the store has not written it yet');
      assert.equal((await store.stats()).spanRecords, 0);
      store.release();
      const restoring = pipeline.restore([span({ traceId: TRACE, spanId: '0000000000000003' })]);
      assert.deepEqual(durable.slice(2), ['0000000000000003'], 'a replayed batch is fed before its store write');
      store.release();
      await restoring;
    } finally {
      store.release();
      const stopping = pipeline.stop(10_000);
      store.release();
      await stopping;
      await wal.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
