/**
 * Held records by start time, for finding duplicate lines (records that start at the same µs). A
 * hash table of chains threaded through the records themselves (`sameNext`): a lookup is a slot
 * and a short chain, with no boxed key and no table entry allocated per record. A JS Map keyed by
 * start time cost ~10 % of inference's steady-state CPU on the bench's log: µs since the epoch are
 * beyond V8's small integers (every key a boxed double), and a map churned by ~40 000 inserts and
 * deletes per window is rehashed again and again.
 */

export interface StartChained<T> {
  /** Start, µs. */
  readonly s: number;
  /** The next record in the same slot, in arrival order. */
  sameNext: T | undefined;
}

const FIRST_SLOTS = 1 << 12;

export class StartTable<T extends StartChained<T>> {
  private slots: (T | undefined)[] = new Array<T | undefined>(FIRST_SLOTS).fill(undefined);
  /** 32 − log2(slots): a slot is the top bits of the hashed start. */
  private shift = 32 - Math.log2(FIRST_SLOTS);
  private count = 0;

  /** The first record of the chain that records starting at `startUs` are in (others may share it: compare `s`). */
  chain(startUs: number): T | undefined {
    return this.slots[this.slotOf(startUs)];
  }

  /** Adds a record at the end of its chain (arrival order). */
  add(x: T): void {
    if (this.count >= this.slots.length) this.grow();
    this.count++;
    this.append(x);
  }

  /** Removes a record that was added (nothing happens for one that was not). */
  remove(x: T): void {
    const at = this.slotOf(x.s);
    let prev: T | undefined;
    for (let y = this.slots[at]; y !== undefined; prev = y, y = y.sameNext) {
      if (y !== x) continue;
      if (prev === undefined) this.slots[at] = x.sameNext;
      else prev.sameNext = x.sameNext;
      x.sameNext = undefined;
      this.count--;
      return;
    }
  }

  /**
   * Fibonacci hashing of the start's low 32 bits (`>>>` wraps doubles beyond 2³²): starts that are
   * all multiples of 1000 (ms-resolution logs) still spread over every slot.
   */
  private slotOf(startUs: number): number {
    return Math.imul(startUs >>> 0, 0x9e3779b1) >>> this.shift;
  }

  private append(x: T): void {
    x.sameNext = undefined;
    const at = this.slotOf(x.s);
    let y = this.slots[at];
    if (y === undefined) {
      this.slots[at] = x;
      return;
    }
    while (y.sameNext !== undefined) y = y.sameNext;
    y.sameNext = x;
  }

  /** Doubles the slots; chains keep their arrival order (each is re-threaded front to back). */
  private grow(): void {
    const old = this.slots;
    this.slots = new Array<T | undefined>(2 * old.length).fill(undefined);
    this.shift--;
    for (const head of old) {
      for (let x = head; x !== undefined; ) {
        const next = x.sameNext;
        this.append(x);
        x = next;
      }
    }
  }
}

