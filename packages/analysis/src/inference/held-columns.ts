/**
 * The numbers of inference's held records (start, end, the two steps' confidences) as typed columns,
 * one row per held record. As object fields each double is a heap box of its own (V8 boxes double
 * fields), and every held record survives about three windows: in columns they are a few big
 * arrays the young-generation collector never copies. Rows are recycled, so the columns follow the
 * window, not the file.
 */

const FIRST_ROWS = 1024;

export class HeldColumns {
  /** Start and end, µs. */
  s = new Float64Array(FIRST_ROWS);
  e = new Float64Array(FIRST_ROWS);
  /** Callee side (`in`): the chosen call's confidence. */
  c1 = new Float64Array(FIRST_ROWS);
  /** Caller side (`out`): the chosen parent's confidence, and its untempered posterior. */
  c2 = new Float64Array(FIRST_ROWS);
  c2raw = new Float64Array(FIRST_ROWS);
  /** Final confidence of an `in` record's link. */
  conf = new Float64Array(FIRST_ROWS);
  private free = new Int32Array(FIRST_ROWS);
  private freeCount = 0;
  /** Rows ever handed out (the high-water mark). */
  private used = 0;

  /** Rows in use. */
  get live(): number {
    return this.used - this.freeCount;
  }

  /** Rows the columns have room for. */
  get capacity(): number {
    return this.s.length;
  }

  /** A row for a new record, with its times set and its confidences zero. */
  alloc(startUs: number, endUs: number): number {
    let row: number;
    if (this.freeCount > 0) row = this.free[--this.freeCount]!;
    else {
      if (this.used === this.s.length) this.grow();
      row = this.used++;
    }
    this.s[row] = startUs;
    this.e[row] = endUs;
    this.c1[row] = 0;
    this.c2[row] = 0;
    this.c2raw[row] = 0;
    this.conf[row] = 0;
    return row;
  }

  /**
   * Gives a row back; its record must not be read afterwards. Its numbers become NaN until reused,
   * so a read too early spoils the answer visibly (a NaN confidence) rather than using another
   * record's numbers.
   */
  release(row: number): void {
    if (row < 0 || row >= this.used) throw new RangeError(`row ${row} was never allocated`);
    this.s[row] = NaN;
    this.e[row] = NaN;
    this.c1[row] = NaN;
    this.c2[row] = NaN;
    this.c2raw[row] = NaN;
    this.conf[row] = NaN;
    if (this.freeCount === this.free.length) {
      const free = new Int32Array(2 * this.free.length);
      free.set(this.free);
      this.free = free;
    }
    this.free[this.freeCount++] = row;
  }

  private grow(): void {
    const n = 2 * this.s.length;
    const grown = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.s = grown(this.s);
    this.e = grown(this.e);
    this.c1 = grown(this.c1);
    this.c2 = grown(this.c2);
    this.c2raw = grown(this.c2raw);
    this.conf = grown(this.conf);
  }
}
