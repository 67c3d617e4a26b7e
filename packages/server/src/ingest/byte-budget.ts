/**
 * A byte budget shared by every request that decompresses a body: the bound on the memory that
 * decompression can take across requests (a per-request cap alone lets a burst of small gzip bombs
 * hold cap × requests). A request takes a first share before it inflates anything and grows it as the
 * output grows; whatever a request holds goes back when it is done, error or not.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) otherwise. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
