/**
 * The head: the columns of the newest micro-blocks, kept in memory as they were built for their
 * Parquet file (block-columns.ts), until compaction swaps the micro-blocks out. A trace lookup
 * takes the rows of a head block from here (a binary search on its sorted trace ids, then the rows
 * of the trace) instead of reading the file: DuckDB's Parquet scan costs ~0.2 ms of CPU per column
 * whatever the rows (measured: 32 columns of one 16 384-row group ~8 ms, the same with 2 048-row
 * groups or without compression), and recent traces are those looked up most.
 *
 * The rows come out as the trace lookup's SQL gives them (`spanColumnsSql`, parents resolved), so
 * they are decoded by the same `decodeSpanRow`: a span reads the same from the head as from its
 * file. Memory is bounded by `budgetRows`: past it the oldest blocks leave the head (their files
 * are read as any other). An entry goes with its file (block-set.ts), so a query reading a
 * snapshot finds the blocks it holds, and takes their rows before it awaits anything.
 */
import { attributeColumn } from '../embedded/schema.js';
import type { BlockColumns } from './block-columns.js';

export interface HeadBlock {
  rows: number;
  slots: number;
  /** The block's micro-block number (`bseq` of its rows, for tombstones). */
  bseq: number;
  col: Record<string, readonly unknown[] | BigUint64Array | BigInt64Array | Int32Array>;
  hi: BigUint64Array;
  lo: BigUint64Array;
}

/** A trace's row of a head block and the micro-block it was written in. */
export interface HeadRow {
  row: unknown[];
  bseq: number;
}

/** A 64-bit id as the 16 hex digits it is written as. */
export const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');

/** Columns of `spanColumnsSql` after the ids, in its order. */
const PLAIN = ['rpcid', 'service', 'instance', 'name', 'kind'] as const;
const AFTER_TIMES = ['status', 'status_msg', 'kinds', 'rest', 'resource', 'scope_name', 'scope_version', 'scope_attrs', 'extra'] as const;

export class Head {
  private readonly blocks = new Map<string, HeadBlock>();
  private rows = 0;

  constructor(private readonly budgetRows: number) {}

  get size(): number {
    return this.rows;
  }

  has(name: string): boolean {
    return this.blocks.has(name);
  }

  /** Keeps block `name` (micro-block number `bseq`); the oldest blocks leave once over budget. */
  add(name: string, block: BlockColumns, bseq: number): void {
    if (block.rows > this.budgetRows) return;
    const col: HeadBlock['col'] = {};
    for (const c of block.columnData) col[c.name] = c.data as HeadBlock['col'][string];
    this.blocks.set(name, { rows: block.rows, slots: block.slots, bseq, col, hi: col.tid_hi as BigUint64Array, lo: col.tid_lo as BigUint64Array });
    this.rows += block.rows;
    for (const old of this.blocks.keys()) {
      if (this.rows <= this.budgetRows) break;
      this.drop(old);
    }
  }

  /**
   * The columns of block `name` while it is in the head (compaction merges them, head-compaction.ts).
   * Never changed once added: a caller may keep them after the block leaves the head.
   */
  block(name: string): HeadBlock | undefined {
    return this.blocks.get(name);
  }

  drop(name: string): void {
    const b = this.blocks.get(name);
    if (b === undefined) return;
    this.blocks.delete(name);
    this.rows -= b.rows;
  }

  /**
   * The rows of trace `key` (32 hex) in block `name`, as `spanColumnsSql(slots)` selects them
   * (pid resolved from the position), each with its micro-block number. Hidden rows (tombstones)
   * are the caller's to drop.
   */
  traceRows(name: string, key: string, slots: number): HeadRow[] {
    const b = this.blocks.get(name);
    if (b === undefined) return [];
    const hi = BigInt(`0x${key.slice(0, 16)}`);
    const lo = BigInt(`0x${key.slice(16)}`);
    // Rows are sorted by (tid_hi, tid_lo): the first row of the trace, then its run.
    let a = 0;
    let z = b.rows;
    while (a < z) {
      const m = (a + z) >>> 1;
      if (b.hi[m]! < hi || (b.hi[m] === hi && b.lo[m]! < lo)) a = m + 1;
      else z = m;
    }
    const out: HeadRow[] = [];
    const c = b.col;
    const sid = c.sid as BigUint64Array;
    const pid = c.pid as readonly (bigint | null)[];
    const pdelta = c.pdelta as readonly (number | null)[];
    const t64 = c.t64 as readonly (boolean | null)[];
    for (let i = a; i < b.rows && b.hi[i] === hi && b.lo[i] === lo; i++) {
      const d = pdelta[i];
      const parent = d !== null && d !== undefined ? sid[i - d]! : pid[i];
      const row: unknown[] = [t64[i] === true ? hex16(lo) : key, hex16(sid[i]!), parent === null || parent === undefined ? null : hex16(parent)];
      for (const n of PLAIN) row.push(c[n]![i] ?? null);
      row.push(Number((c.start_us as BigInt64Array)[i]!));
      const duration = (c.duration_us as readonly (number | bigint | null)[])[i];
      row.push(duration === null || duration === undefined ? null : Number(duration));
      for (const n of AFTER_TIMES) row.push(c[n]![i] ?? null);
      for (let s = 0; s < slots; s++) row.push(s < b.slots ? ((c[attributeColumn(s)] as readonly (string | null)[])[i] ?? null) : null);
      out.push({ row, bseq: b.bseq });
    }
    return out;
  }
}
