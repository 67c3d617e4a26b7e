/**
 * Group commit of `writeSpans` calls into micro-blocks. One block is written at a time; calls that
 * arrive meanwhile wait and go together into the next one, so batches grow with load by themselves
 * (a lone caller awaiting each write never waits for others). A call resolves once its block is
 * fsynced and named in the manifest; with `deferred`, once its block is in the head (no file yet:
 * deferred-head.ts writes the head as one file later).
 */
import { join } from 'node:path';
import type { Span } from '@linktrace/model';
import type { AttributeColumns } from '../embedded/attribute-columns.js';
import type { SpanRowEncoder } from '../embedded/span-row-encoder.js';
import { encodeBlock } from './block-columns.js';
import type { BlockColumns } from './block-columns.js';
import type { BlockFile } from './manifest.js';
import { parquetBytes, writeDurably } from './parquet-file.js';
import type { BlockCodec } from './parquet-file.js';

export interface BlockWriterOptions {
  dir: string;
  encoder: SpanRowEncoder;
  columns: AttributeColumns;
  codec: BlockCodec;
  /** The store's clock, µs. */
  nowUs: () => number;
  /** A fresh file number (also the micro-block number `bseq` of its rows). */
  nextSeq: () => number;
  /** Persists newly promoted attribute slots. */
  saveSlots: (slots: readonly number[]) => Promise<void>;
  /** Names the written file in the manifest; `block`: its columns (trace index entry, head). */
  commit: (file: Omit<BlockFile, 'tombApplied'>, block: BlockColumns) => Promise<void>;
  /** Deferred durability (block-store.ts `durability`): no file is written, `commit` gets the columns only. */
  deferred?: boolean;
}

interface Waiting {
  spans: readonly Span[];
  arrivedUs: number | undefined;
  resolve(): void;
  reject(err: unknown): void;
}

export class BlockWriter {
  private waiting: Waiting[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly o: BlockWriterOptions) {}

  write(spans: readonly Span[], arrivedUs?: number): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ spans, arrivedUs, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running !== undefined || this.waiting.length === 0) return;
    this.running = this.writeBlock().finally(() => {
      this.running = undefined;
      this.kick();
    });
  }

  /** Resolves when every call made so far is written. */
  async flush(): Promise<void> {
    while (this.running !== undefined || this.waiting.length > 0) {
      this.kick();
      await this.running;
    }
  }

  private async writeBlock(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    try {
      const now = this.o.nowUs();
      // Calls that say when they arrived (a replay) keep their time; one block holds one arrival
      // time per call, so each such call is a block of its own.
      const groups = new Map<number, Span[]>();
      for (const w of batch) {
        const at = w.arrivedUs ?? now;
        let list = groups.get(at);
        if (list === undefined) groups.set(at, (list = []));
        for (const s of w.spans) list.push(s);
      }
      for (const [arrivedUs, spans] of groups) await this.writeOne(spans, Math.floor(arrivedUs));
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  private async writeOne(spans: readonly Span[], arrivedUs: number): Promise<void> {
    const seq = this.o.nextSeq();
    const block = encodeBlock(spans, this.o.encoder, () => this.o.columns.keys.length, arrivedUs, seq);
    const added = this.o.columns.takeNew();
    if (added.length > 0) await this.o.saveSlots(added);
    const name = `b-${seq}.parquet`;
    let bytes = 0;
    if (this.o.deferred !== true) {
      const data = parquetBytes(block, this.o.codec);
      await writeDurably(join(this.o.dir, name), data);
      bytes = data.byteLength;
    }
    await this.o.commit({
      name,
      rows: block.rows,
      bytes,
      level: 0,
      minKey: block.minKey,
      maxKey: block.maxKey,
      minArrived: arrivedUs,
      maxArrived: arrivedUs,
      maxStart: block.maxStart,
      minBseq: seq,
      maxBseq: seq,
      slots: block.slots,
      format: 2,
      ...(block.restKeys === undefined ? {} : { restKeys: block.restKeys }),
    }, block);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
