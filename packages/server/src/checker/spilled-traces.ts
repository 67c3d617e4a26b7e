/**
 * Trace ids whose spans the store may hold beyond what the checker's buffer holds: traces already
 * checked (their spans were let go), refused because the buffer was full, or cut by the per-trace
 * cap. A trace that is not here is checked from its buffered spans alone; one that is here is read
 * back from the store.
 *
 * Kept as 32-bit hashes in two generations of open-addressed tables (4 bytes a slot, at most half
 * full): when the current generation fills up it becomes the previous one and the oldest is let go,
 * so the most recent `capacity / 2` to `capacity` ids are remembered. A hash collision only costs a
 * needless store read. An id older than that is forgotten: a span arriving for it then is checked
 * with what the buffer holds (at 1 000 traces/s, that is a span over half an hour late).
 */
const MIN_SLOTS = 1 << 12;

/** FNV-1a over the UTF-16 code units; never 0 (0 marks an empty slot). */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

class HashTable {
  slots: Uint32Array;
  count = 0;

  constructor(size: number) {
    this.slots = new Uint32Array(size);
  }

  has(h: number): boolean {
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.slots[i]!;
      if (v === h) return true;
      if (v === 0) return false;
    }
  }

  /** False when already present. */
  insert(h: number): boolean {
    const mask = this.slots.length - 1;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const v = this.slots[i]!;
      if (v === h) return false;
      if (v === 0) break;
    }
    this.slots[i] = h;
    this.count++;
    return true;
  }
}

export class SpilledTraces {
  private current = new HashTable(MIN_SLOTS);
  private previous: HashTable | undefined;
  private readonly maxSlots: number;

  /** `maxSlots` (a power of two) bounds each generation: 2²¹ slots are 8 MiB, up to 2 M ids remembered. */
  constructor(maxSlots = 1 << 21) {
    this.maxSlots = Math.max(MIN_SLOTS, 2 ** Math.ceil(Math.log2(maxSlots)));
  }

  add(traceId: string): void {
    const h = hashOf(traceId);
    if (!this.current.insert(h)) return;
    if (this.current.count * 2 <= this.current.slots.length) return;
    if (this.current.slots.length < this.maxSlots) this.grow();
    else {
      this.previous = this.current;
      this.current = new HashTable(this.maxSlots);
    }
  }

  has(traceId: string): boolean {
    const h = hashOf(traceId);
    return this.current.has(h) || this.previous?.has(h) === true;
  }

  /** Bytes held by the tables. */
  get bytes(): number {
    return this.current.slots.byteLength + (this.previous?.slots.byteLength ?? 0);
  }

  private grow(): void {
    const old = this.current.slots;
    this.current = new HashTable(old.length * 2);
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.current.insert(old[i]!);
  }
}
