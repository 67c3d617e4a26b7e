/**
 * Trace summary rows read from compacted files' summaries files, kept by (file, trace): a search's
 * hits are mostly the newest traces, found again by the next searches, and reading 20 of them
 * from a summaries file cost ~12 ms of CPU (its columns' chunks, whatever the rows). A file that
 * does not hold a trace its index named is remembered too (`null`). Block files are immutable and
 * their names never reused, so an entry never goes stale. At most `limit` entries (least recently
 * used go first): whole files kept in memory instead (~30 000 rows each) cost more GC than they
 * saved (measured: +16 ms of CPU per attribute search).
 */
import { OldestFirst } from '@linktrace/model';
export class SummaryCache {
  private readonly rows = new Map<string, unknown[] | null>();
  private readonly oldest = new OldestFirst(this.rows);

  constructor(private readonly limit = 16_384) {}

  /** The summary row of trace `key` (32 hex) in file `file`; null: not there; undefined: not known. */
  get(file: string, key: string): unknown[] | null | undefined {
    const k = `${file}\n${key}`;
    const row = this.rows.get(k);
    if (row !== undefined) {
      this.rows.delete(k);
      this.rows.set(k, row);
    }
    return row;
  }

  set(file: string, key: string, row: unknown[] | null): void {
    const k = `${file}\n${key}`;
    this.rows.delete(k);
    this.rows.set(k, row);
    this.oldest.trimTo(this.limit);
  }

  get size(): number {
    return this.rows.size;
  }
}
