/**
 * The live block files and who reads them. A read takes a snapshot (the files live when it starts)
 * and releases it when done; a file a compaction or retention swapped out is deleted only once no
 * snapshot holds it, so a query never loses a file under it and never sees a span twice.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { traceSummariesPath } from './block-copy.js';
import { Head } from './head-block.js';
import type { BlockFile } from './manifest.js';
import { TraceIndex } from './trace-index.js';

export interface Snapshot {
  files: readonly BlockFile[];
  /** Full paths of `files`. */
  paths: readonly string[];
  /** Attribute slot columns every query over the snapshot may use (the files' widest). */
  slots: number;
  /** One of the files at least stores parents as positions (format 2, see manifest.ts). */
  positioned: boolean;
  release(): void;
}

export class BlockSet {
  private live: BlockFile[];
  private readonly refs = new Map<string, number>();
  /** Files swapped out that a snapshot still reads (deleted when the last one is released). */
  private readonly retired = new Map<string, BlockFile>();
  private readonly unlinking = new Set<Promise<void>>();
  /** Trace ids of each file (trace-index.ts); an entry goes with its file. */
  readonly traces = new TraceIndex();
  /**
   * Trace summaries of micro-blocks computed by a search (block-store.ts `summariesOf`), per file:
   * 32-hex key → summary row. Micro-blocks have no summaries file; an entry goes with its file.
   */
  readonly summaries = new Map<string, ReadonlyMap<string, unknown[]>>();
  /** The columns of the newest micro-blocks (head-block.ts); an entry goes with its file. */
  readonly head: Head;

  constructor(
    private readonly dir: string,
    files: readonly BlockFile[],
    headRows: number,
  ) {
    this.live = [...files];
    this.head = new Head(headRows);
  }

  /** Called when the last snapshot holding a swapped-out file is released. */
  onRetiredReleased: (() => void) | undefined;

  /**
   * Called with the files of a snapshot about to be read (deferred durability: head blocks get a
   * file of their own the first time a query reads files, deferred-head.ts). Not for snapshots
   * taken with `headInMemory` (a trace lookup reads head blocks from memory).
   */
  beforeRead: ((files: readonly BlockFile[]) => void) | undefined;

  /** Called after every `swap` (deferred durability: head blocks written out are durable). */
  onSwap: (() => void) | undefined;

  get files(): readonly BlockFile[] {
    return this.live;
  }

  /**
   * The swapped-out files snapshots still read: their records are still read, so the tombstones
   * covering them must stay (a tombstone dropped under a reader shows the hidden records again).
   */
  get stillRead(): readonly BlockFile[] {
    return [...this.retired.values()];
  }

  acquire(filter?: (f: BlockFile) => boolean, headInMemory = false): Snapshot {
    const files = filter === undefined ? this.live : this.live.filter(filter);
    if (!headInMemory) this.beforeRead?.(files);
    for (const f of files) this.refs.set(f.name, (this.refs.get(f.name) ?? 0) + 1);
    let released = false;
    return {
      files,
      paths: files.map((f) => join(this.dir, f.name)),
      slots: files.reduce((m, f) => Math.max(m, f.slots), 0),
      positioned: files.some((f) => f.format === 2),
      release: () => {
        if (released) return;
        released = true;
        for (const f of files) {
          const n = this.refs.get(f.name)! - 1;
          if (n > 0) this.refs.set(f.name, n);
          else {
            this.refs.delete(f.name);
            if (this.retired.has(f.name)) {
              this.remove(f.name);
              this.onRetiredReleased?.();
            }
          }
        }
      },
    };
  }

  add(file: BlockFile): void {
    this.live.push(file);
  }

  /** Makes `next` the live list; files no longer in it go when their last reader is done. */
  swap(next: readonly BlockFile[]): void {
    const keep = new Set(next.map((f) => f.name));
    for (const f of this.live) {
      if (keep.has(f.name)) continue;
      if (this.refs.has(f.name)) this.retired.set(f.name, f);
      else this.remove(f.name);
    }
    this.live = [...next];
    this.onSwap?.();
  }

  private remove(name: string): void {
    this.retired.delete(name);
    this.traces.drop(name);
    this.head.drop(name);
    this.summaries.delete(name);
    // Not needed for correctness (the manifest no longer lists it; open removes leftovers).
    const p = Promise.all([unlink(join(this.dir, name)), unlink(traceSummariesPath(join(this.dir, name)))].map((u) => u.catch(() => undefined))).then(() => undefined);
    this.unlinking.add(p);
    void p.finally(() => this.unlinking.delete(p));
  }

  /** Waits for pending deletions (close). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.unlinking]);
  }
}
