/**
 * Between the receivers and the store: an accepted batch is appended to the write-ahead log (the
 * answer waits for its fsync) and queued; a background loop moves queued batches into the store,
 * several requests per write and a few writes at a time, and confirms them to the log in order. The
 * queue is bounded in spans: past the bound, new requests are refused with 429 instead of growing
 * memory. With a store that makes writes durable later (`IngestStore.whenDurable`), a written batch
 * leaves the queue at once but is confirmed to the log only once the store says it is durable.
 */
import type { Span } from '@linktrace/model';
import { ApiError } from '../errors.js';
import { isNoSpaceError } from '../wal/write-ahead-log.js';
import type { PipelineOptions } from '../config.js';
import type { MemoryBudget } from '../memory-budget.js';
import type { WriteAheadLog } from '../wal/write-ahead-log.js';
import { GZIP_FLAG } from '../ingest/wire-format.js';
import { isStoreInputError, type IngestStore } from './ingest-store.js';
import type { QueriesFirst } from './queries-first.js';

export interface PipelineObserver {
  stored(spans: number): void;
  /** Spans the store refused as malformed: acknowledged but never stored. */
  dropped(spans: number): void;
  storeFailed(error: Error): void;
}

const PENDING = 0;
const DURABLE = 1;
const FAILED = 2;

const NO_SPANS: Span[] = [];

class Entry {
  state: typeof PENDING | typeof DURABLE | typeof FAILED = PENDING;
  constructor(
    public spans: Span[],
    /** Estimated heap bytes of the decoded spans (`decodedBytes`), counted in the memory budget. */
    public bytes = 0,
    /** When the request was accepted (ms since the epoch, the server's clock); also in its log record. */
    public arrivedAtMs = 0,
  ) {}
}

/**
 * The arrival a store write of several requests is marked with: the earliest of them. A batch is
 * requests that sat next to each other in the queue, so their arrivals differ by at most the time the
 * batch took to gather (milliseconds, or the store's lag when it is behind); the earliest keeps the
 * promise that data leaves retention once the period has passed since it came in, never later, and
 * one value per write keeps the store's insert a constant. A WAL replay batches records the same way
 * (`recoverWal`), so a crash changes a span's arrival by no more than that either. Undefined (the
 * store's clock) when no arrival is known (records from a log written before arrivals were kept).
 */
export function earliestArrivalUs(earliestMs: number): number | undefined {
  return Number.isFinite(earliestMs) && earliestMs > 0 ? Math.floor(earliestMs * 1000) : undefined;
}

/**
 * Heap bytes of a decoded span beyond its text, and how much larger a gzip body's text is than the
 * body. Measured on the fixtures (Zipkin and OTLP JSON): a decoded span takes 1.1-1.3x its JSON plus
 * 100-150 bytes; trace JSON compresses 4-10x.
 */
const SPAN_OBJECT_BYTES = 256;
const GZIP_RATIO = 8;

/** The estimated heap bytes of `spans` decoded from `body` (no object is measured). */
export function decodedBytes(tag: number, body: Buffer, spans: number): number {
  return spans * SPAN_OBJECT_BYTES + ((tag & GZIP_FLAG) !== 0 ? body.length * GZIP_RATIO : body.length);
}

const RUNNING = 0;
const WRITTEN = 1;
const ABANDONED = 2;

/** One store write: `entries` queue entries from the confirmed end, in order. */
interface Batch {
  entries: number;
  /** Of them, those with a log record (the others failed to reach the log). */
  records: number;
  count: number;
  state: typeof RUNNING | typeof WRITTEN | typeof ABANDONED;
}

/** Stands in for stored entries until the queue is compacted. */
const DONE = new Entry([]);

/**
 * Stored spans handed to `onStored` (checker, RED metrics, SDK drop reports) per turn of the event
 * loop. One store commit resolves many writes at once (a row group of 122 880 spans under load), and
 * feeding them all in one go held the event loop for over a second, and every query waiting on it.
 */
export const FEED_SLICE_SPANS = 2000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class IngestPipeline {
  private queue: Entry[] = [];
  /** First entry not yet confirmed (stored or dropped). */
  private head = 0;
  /** First entry not yet handed to a store write. */
  private dispatch = 0;
  /** Store writes under way, oldest first. */
  private inflight: Batch[] = [];
  private backlog = 0;
  private backlogBytesHeld = 0;
  private stopping = false;
  private abandon = false;
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: (() => void)[] = [];
  /** The end of the chain of stored batches being handed to `onStored`, in the order they were stored. */
  private feeding: Promise<void> = Promise.resolve();
  private readonly retryHeaders: Record<string, string>;
  /**
   * While the log cannot be written for want of space, one request at a time still tries (the probe):
   * the others are refused before their body is read, and the first append that succeeds resumes ingest.
   */
  private probing = false;
  /** The last store failure, cleared by the next successful write. */
  storeError: Error | undefined;
  /** The store makes writes durable after they resolve (IngestStore.whenDurable). */
  private get defers(): boolean {
    return this.store.defersDurability === true && this.store.whenDurable !== undefined;
  }
  /** Log confirmations waiting for the store to make their batches durable, chained in order. */
  private confirming: Promise<void> = Promise.resolve();
  /** Set once stopping gave up waiting for durability: the log is closed, nothing more is confirmed. */
  private confirmsOff = false;

  constructor(
    private readonly store: IngestStore,
    private readonly wal: WriteAheadLog,
    private readonly options: PipelineOptions,
    private readonly observer?: PipelineObserver,
    /** Called with every batch once it is durable in the store (the chain checker's feed). */
    private readonly onStored?: (spans: readonly Span[]) => void,
    /** Shared with the checker: the backlog's bytes count in it, and a full budget refuses batches. */
    private readonly memory?: MemoryBudget,
    /** The server's clock, ms since the epoch: when a request arrived (its log record keeps it; retention counts from it). */
    private readonly clock: () => number = Date.now,
    /** Queries under way, which the background steps (store writes, feeding `onStored`) wait for, briefly. */
    private readonly queries?: QueriesFirst,
    /**
     * Called with every batch once it is durable in the write-ahead log (before the store has it),
     * and with the batches replayed from the log at start-up: the federated agent's memory of
     * recent traces, so that a trace reads whole as soon as its spans were acknowledged.
     */
    private readonly onDurable?: (spans: readonly Span[]) => void,
  ) {
    this.retryHeaders = { 'retry-after': String(options.retryAfterSeconds) };
    memory?.measure({ backlog: () => this.backlogBytesHeld });
  }

  /** Estimated heap bytes of the backlog. */
  get backlogBytes(): number {
    return this.backlogBytesHeld;
  }

  private memoryFull(bytes: number): ApiError | undefined {
    if (this.memory === undefined || this.memory.backlogFits(bytes)) return undefined;
    const s = this.memory.status();
    return new ApiError(
      'overloaded',
      `the server's memory budget is full (${Math.round(s.usedBytes / 1048576)} of ${Math.round(s.limitBytes / 1048576)} MB: backlog and chain checker); retry later`,
      this.retryHeaders,
    );
  }

  /** Accepted spans not yet in the store. */
  get backlogSpans(): number {
    return this.backlog;
  }

  get accepting(): boolean {
    return !this.stopping;
  }

  /** Starts the loop that moves batches into the store. */
  start(): void {
    this.running ??= this.run();
  }

  /**
   * Refuses at once when the backlog is full: called before a request body is read and decoded, so
   * that a flood costs the server no decoding work. Returns the error to answer with, if any.
   */
  refuseEarly(): ApiError | undefined {
    if (this.stopping) return new ApiError('unavailable', 'the server is shutting down', this.retryHeaders);
    const down = this.storeDown();
    if (down !== undefined) return down;
    if (this.backlog >= this.options.maxBacklogSpans) {
      return new ApiError('overloaded', `the store is behind (${this.backlog} spans waiting); retry later`, this.retryHeaders);
    }
    if (this.probing && this.wal.noSpace) return this.noSpaceError(this.wal.stats().lastError);
    return this.backlog > 0 ? this.memoryFull(0) : undefined;
  }

  /**
   * 503 while a remote store says it cannot take writes (ClickHouse gone away): what was acknowledged
   * waits in the log and is written once it is back; new spans are refused rather than piled up.
   */
  private storeDown(): ApiError | undefined {
    const reason = this.store.unavailableReason?.();
    return reason === undefined ? undefined : new ApiError('unavailable', `the store cannot take writes (${reason}); retry later`, this.retryHeaders);
  }

  /** Why ingest is refused for want of space, or undefined while the log takes appends. */
  get readOnlyReason(): string | undefined {
    return this.wal.noSpace ? `the write-ahead log cannot be written: ${this.wal.stats().lastError?.message ?? 'no space'}` : undefined;
  }

  private noSpaceError(error: Error | undefined): ApiError {
    return new ApiError(
      'insufficient_storage',
      `ingest is paused: the write-ahead log cannot be written (${error?.message ?? 'no space left'}); queries still work, ingest resumes once space is free`,
      this.retryHeaders,
    );
  }

  /**
   * Queues a decoded batch and appends its record to the log. Resolves once the record is fsynced;
   * rejects with `overloaded` (backlog full), or `unavailable` (stopping, or the log cannot be written).
   */
  accept(tag: number, payload: Buffer, spans: Span[]): Promise<void> {
    if (this.stopping) return Promise.reject(new ApiError('unavailable', 'the server is shutting down', this.retryHeaders));
    const down = this.storeDown();
    if (down !== undefined) return Promise.reject(down);
    const n = spans.length;
    // An empty queue takes any batch, so a request larger than the bound is not refused forever.
    if (this.backlog > 0 && this.backlog + n > this.options.maxBacklogSpans) {
      return Promise.reject(
        new ApiError('overloaded', `the store is behind (${this.backlog} spans waiting); retry later`, this.retryHeaders),
      );
    }
    const bytes = this.memory === undefined ? 0 : decodedBytes(tag, payload, n);
    const full = this.backlog > 0 ? this.memoryFull(bytes) : undefined;
    if (full !== undefined) return Promise.reject(full);
    const arrivedAtMs = this.clock();
    const entry = new Entry(spans, bytes, arrivedAtMs);
    this.queue.push(entry);
    this.backlog += n;
    this.backlogBytesHeld += bytes;
    const probe = this.wal.noSpace;
    if (probe) this.probing = true;
    return this.wal.append(tag, payload, arrivedAtMs).then(
      () => {
        if (probe) this.probing = false;
        entry.state = DURABLE;
        this.onDurable?.(spans);
        this.wake();
      },
      (error: unknown) => {
        if (probe) this.probing = false;
        // Refused means freed: the spans of a request that was not acknowledged leave the backlog now,
        // not when the entries queued before it reach the store (which may be failing too).
        entry.state = FAILED;
        entry.spans = NO_SPANS;
        this.backlog -= n;
        this.backlogBytesHeld -= entry.bytes;
        entry.bytes = 0;
        this.wake();
        if (isNoSpaceError(error)) throw this.noSpaceError(asError(error));
        throw new ApiError('unavailable', `the write-ahead log cannot be written: ${asError(error).message}`, this.retryHeaders);
      },
    );
  }

  /** Resolves when every accepted batch is in the store (or dropped as malformed). */
  idle(): Promise<void> {
    if (this.head === this.queue.length && this.inflight.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refuses new batches and waits until the queue is in the store (and, with a store that makes
   * writes durable later, until they are durable and confirmed). After `timeoutMs` with the store
   * still failing, gives up: what is left stays in the log and is replayed on the next start.
   */
  async stop(timeoutMs: number): Promise<{ drained: boolean }> {
    this.stopping = true;
    this.wake();
    if (this.running === undefined) return { drained: this.head === this.queue.length };
    let timedOut = false;
    let drained = false;
    let endWait: () => void = () => {};
    const gaveUp = new Promise<void>((resolve) => (endWait = resolve));
    const timer = setTimeout(() => {
      timedOut = true;
      this.abandon = true;
      this.wake();
      for (const wakeSleeper of this.sleepers) wakeSleeper();
      endWait();
    }, timeoutMs);
    // Not unref'd: a hung store write holds no handle of its own, and this wait must end.
    await this.running;
    drained = this.head === this.queue.length;
    // What the store holds is made durable and confirmed, so the next start replays nothing twice.
    if (!timedOut && this.defers) await Promise.race([this.makeDurable(), gaveUp]);
    // Gave up waiting for durability: what is not confirmed stays in the log for the next start.
    if (timedOut) this.confirmsOff = true;
    clearTimeout(timer);
    return { drained: drained && !(timedOut && this.defers) };
  }

  /**
   * Has the store make every stored batch durable now and waits until they are confirmed to the
   * log (WAL replay's end, stop). At once for a store whose writes are durable when they resolve.
   */
  async makeDurable(): Promise<void> {
    if (!this.defers) return;
    await this.store.whenDurable!(true);
    await this.confirming;
  }

  /** Confirms `records` log records once the store has made the batch they are in durable, in order. */
  private confirm(records: number): void {
    if (!this.defers) {
      this.wal.confirm(records);
      return;
    }
    const durable = this.store.whenDurable!();
    this.confirming = this.confirming
      .then(() => durable)
      .then(() => {
        if (!this.confirmsOff) this.wal.confirm(records);
      });
  }

  /**
   * Stores spans decoded from the log at start-up (before `start`), marked as arrived at
   * `arrivedUs` (see `earliestArrivalUs`); store failures reject.
   */
  async restore(spans: Span[], arrivedUs?: number): Promise<void> {
    this.onDurable?.(spans);
    await this.write(spans, arrivedUs);
  }

  private wake(): void {
    const wake = this.wakeUp;
    if (wake !== undefined) {
      this.wakeUp = undefined;
      wake();
    }
  }

  /**
   * Starts store writes for settled entries (up to `storeConcurrency` at once, so that encoding the
   * next batches overlaps the store's commit of the previous one, and a busy store can gather a
   * whole row group from them) and sleeps until something changes.
   */
  private async run(): Promise<void> {
    for (;;) {
      if (this.abandon) return;
      if (this.inflight.length < this.options.storeConcurrency && this.dispatchable()) {
        // Starting a write encodes its spans on this thread: queries under way go first, and one
        // write per turn of the event loop, so that many writes started at once do not hold up
        // requests (and log commits) in between.
        await this.yieldToQueries();
        if (this.abandon) return;
        if (this.startBatch()) {
          await nextTurn();
          continue;
        }
      }
      if (this.head === this.queue.length && this.inflight.length === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        if (this.stopping) return;
      }
      await new Promise<void>((resolve) => (this.wakeUp = resolve));
    }
  }

  /** Whether the next entry to hand to a store write has settled (its log append is done). */
  private dispatchable(): boolean {
    return this.dispatch < this.queue.length && this.queue[this.dispatch].state !== PENDING;
  }

  /**
   * Waits (briefly, see QueriesFirst) while queries are under way; not while draining to stop. The
   * receivers call it too, before decoding a request's body.
   */
  yieldToQueries(): Promise<void> | undefined {
    return this.queries === undefined || this.stopping ? undefined : this.queries.yieldToQueries();
  }

  /** Takes the next batch of settled entries and starts its write; false when there is none. */
  private startBatch(): boolean {
    const from = this.dispatch;
    let end = from;
    let count = 0;
    let records = 0;
    let durableSpans = 0;
    // While queries are under way, small writes: encoding one is a step the event loop cannot interrupt.
    const most = this.queries !== undefined && this.queries.queries > 0 && !this.stopping ? Math.min(FEED_SLICE_SPANS, this.options.storeBatchSpans) : this.options.storeBatchSpans;
    while (end < this.queue.length && count < most) {
      const entry = this.queue[end];
      if (entry.state === PENDING) break;
      count += entry.spans.length;
      if (entry.state === DURABLE) {
        records++;
        durableSpans += entry.spans.length;
      }
      end++;
    }
    if (end === from) return false;
    const batch: Batch = { entries: end - from, records, count, state: RUNNING };
    const spans = durableSpans === 0 ? [] : this.gather(from, end, records, durableSpans);
    let earliestMs = Infinity;
    for (let i = from; i < end; i++) if (this.queue[i].state === DURABLE) earliestMs = Math.min(earliestMs, this.queue[i].arrivedAtMs);
    this.dispatch = end;
    this.inflight.push(batch);
    const written = spans.length === 0 ? Promise.resolve(true) : this.deliver(spans, earliestArrivalUs(earliestMs));
    void written.then((ok) => {
      batch.state = ok ? WRITTEN : ABANDONED;
      this.settle();
      this.wake();
    });
    return true;
  }

  /** Confirms finished batches to the log strictly in order, and releases their entries. */
  private settle(): void {
    while (this.inflight.length > 0 && this.inflight[0].state === WRITTEN) {
      const batch = this.inflight.shift() as Batch;
      const end = this.head + batch.entries;
      // Drop the stored entries now: the queue must not keep their spans alive.
      for (let i = this.head; i < end; i++) {
        this.backlogBytesHeld -= this.queue[i].bytes;
        this.queue[i] = DONE;
      }
      this.head = end;
      this.backlog -= batch.count;
      this.confirm(batch.records);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.dispatch = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.dispatch -= this.head;
      this.head = 0;
    }
  }

  /** The durable spans of entries [from, end) as one array (the entry's own array when there is one). */
  private gather(from: number, end: number, records: number, total: number): Span[] {
    const out: Span[] = records === 1 ? [] : new Array<Span>(total);
    let k = 0;
    for (let i = from; i < end; i++) {
      const entry = this.queue[i];
      if (entry.state !== DURABLE) continue;
      if (records === 1) return entry.spans;
      const spans = entry.spans;
      for (let j = 0; j < spans.length; j++) out[k++] = spans[j];
    }
    return out;
  }

  /** Writes until stored; false when stopping gave up on a failing store. */
  private async deliver(spans: Span[], arrivedUs: number | undefined): Promise<boolean> {
    let delay = MIN_RETRY_MS;
    for (;;) {
      try {
        await this.write(spans, arrivedUs);
        this.storeError = undefined;
        return true;
      } catch (error) {
        this.storeError = asError(error);
        this.observer?.storeFailed(this.storeError);
        if (this.abandon) return false;
        await new Promise<void>((resolve) => {
          const wakeSleeper = (): void => {
            clearTimeout(timer);
            this.sleepers.delete(wakeSleeper);
            resolve();
          };
          const timer = setTimeout(wakeSleeper, delay);
          this.sleepers.add(wakeSleeper);
        });
        if (this.abandon) return false;
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  /** One store write; a batch with a malformed span is split until the bad spans are isolated and dropped. */
  private async write(spans: Span[], arrivedUs: number | undefined): Promise<void> {
    try {
      await this.store.writeSpans(spans, arrivedUs === undefined ? undefined : { arrivedUs });
      this.observer?.stored(spans.length);
    } catch (error) {
      if (!isStoreInputError(error)) throw error;
      if (spans.length === 1) {
        this.observer?.dropped(1);
        return;
      }
      const mid = spans.length >>> 1;
      await this.write(spans.slice(0, mid), arrivedUs);
      await this.write(spans.slice(mid), arrivedUs);
      return;
    }
    // Outside the try: a failing listener must not make the pipeline write the batch again.
    if (this.onStored !== undefined) await this.feed(this.onStored, spans);
  }

  /**
   * Hands stored spans to `listener` in store order, `FEED_SLICE_SPANS` per turn of the event loop, so
   * that requests and query results get their turns in between. The write (and the backlog's bytes
   * for its spans) is settled only once its spans were handed over; rejects with the listener's error.
   */
  private feed(listener: (spans: readonly Span[]) => void, spans: Span[]): Promise<void> {
    const fed = this.feeding.then(async () => {
      for (let i = 0; i < spans.length; i += FEED_SLICE_SPANS) {
        await this.yieldToQueries();
        await nextTurn();
        listener(spans.length <= FEED_SLICE_SPANS ? spans : spans.slice(i, i + FEED_SLICE_SPANS));
      }
    });
    this.feeding = fed.catch(() => undefined);
    return fed;
  }
}
