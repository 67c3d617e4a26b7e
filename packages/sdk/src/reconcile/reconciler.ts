import { ATTR, type Span } from '@linktrace/model';
import { getGlobalTracing } from '../trace/global.js';
import type { SpanHandle } from '../trace/span-handle.js';
import { Tracer } from '../trace/tracer.js';
import { Tracing } from '../trace/tracing.js';
import { TRACE_FLAG_SAMPLED, type SpanContext, type SpanProcessor } from '../types.js';
import { compareStates } from './compare-states.js';
import { RECONCILE_ATTR, type ReconcileResult } from './reconcile-attributes.js';
import { toRecordState, type ReadResult, type RecordState } from './record-state.js';

/** Target schemes that expect a downstream receive rather than hold a record. */
const HANDS_ON = /^(?:http|https|rpc|grpc|mq):/i;

/** The instrumentation scope of reconcile spans when the reconciler is attached to a Tracing. */
export const RECONCILE_SCOPE = '@linktrace/sdk/reconcile';

/** The written record a check is about, as the write span named it. */
export interface ReconcileEntity {
  readonly type: string;
  readonly key: string;
  readonly version?: string;
}

/** How to read one entity type where it came from and where it was written. */
export interface EntityReaders {
  /** Reads the record at its source. `undefined`/`null`: the source has no such record. */
  source(key: string, entity: ReconcileEntity): Promise<ReadResult> | ReadResult;
  /** Reads the record at `target` (`scheme:name`, as the write span named it). `undefined`/`null`: not there. */
  target(key: string, target: string, entity: ReconcileEntity): Promise<ReadResult> | ReadResult;
}

export interface ReconcilerOptions {
  /** Time from the end of a write to its check. Default 5000 ms. */
  delayMs?: number;
  /** Checks waiting or running at once; a write beyond this is not checked (counted in `dropped`). Default 10 000. */
  maxPending?: number;
  /** A reader that has not settled after this long counts as failed. Default 10 000 ms. */
  timeoutMs?: number;
  /** Where reconcile spans are recorded; can also be given later with `attach`. Default: the global Tracing. */
  tracer?: Tracer | Tracing;
}

export interface ReconcilerCounters {
  /** Writes of registered entity types queued for a check. */
  scheduled: number;
  /** Writes not checked because `maxPending` checks were already waiting or running. */
  dropped: number;
  /** Checks still waiting when `shutdown` was called. */
  cancelled: number;
  match: number;
  mismatch: number;
  missing: number;
  unknown: number;
  /** Checks where a reader threw, rejected, timed out or returned something malformed (also counted in `unknown`). */
  failed: number;
  /** `register` calls with an invalid entity type or readers (ignored). */
  invalidRegistrations: number;
}

interface Check {
  parent: SpanHandle | SpanContext;
  entity: ReconcileEntity;
  target: string;
  readers: EntityReaders;
  /** performance.now() time the check is due. */
  dueMs: number;
}

const DEFAULT_DELAY_MS = 5000;
const DEFAULT_MAX_PENDING = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const STATUS_MESSAGE_LIMIT = 200;

/**
 * Delayed reconciliation: a span processor that notices `write` stage spans of registered entity
 * types and, `delayMs` after each ends, reads the record at the source and at the target, compares
 * versions and hashes, and records the result as a `reconcile <type>` span, child of the write, in
 * the same trace. Only versions and hashes are recorded, never a payload. Never throws from the
 * span path; reader failures are recorded on the reconcile span.
 */
export class Reconciler implements SpanProcessor {
  readonly counters: ReconcilerCounters = {
    scheduled: 0,
    dropped: 0,
    cancelled: 0,
    match: 0,
    mismatch: 0,
    missing: 0,
    unknown: 0,
    failed: 0,
    invalidRegistrations: 0,
  };
  readonly delayMs: number;
  readonly maxPending: number;
  readonly timeoutMs: number;
  private tracer: Tracer | undefined;
  private readonly readers = new Map<string, EntityReaders>();
  // The delay is the same for every check, so due times only grow: a FIFO with one timer suffices.
  private queue: Check[] = [];
  private head = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private shutDown = false;
  private readonly fire = (): void => this.runDue();

  constructor(options: ReconcilerOptions = {}) {
    const o = options !== null && typeof options === 'object' ? options : {};
    this.delayMs = nonNegative(o.delayMs, DEFAULT_DELAY_MS);
    this.maxPending = typeof o.maxPending === 'number' && Number.isInteger(o.maxPending) && o.maxPending > 0 ? o.maxPending : DEFAULT_MAX_PENDING;
    this.timeoutMs = nonNegative(o.timeoutMs, DEFAULT_TIMEOUT_MS);
    if (o.tracer !== undefined) this.attach(o.tracer);
  }

  /** Records reconcile spans with this tracer (a Tracing: its `@linktrace/sdk/reconcile` tracer). */
  attach(source: Tracer | Tracing): this {
    if (source instanceof Tracing) this.tracer = source.getTracer(RECONCILE_SCOPE);
    else if (source instanceof Tracer) this.tracer = source;
    return this;
  }

  /**
   * Checks writes of `entityType` with these readers (replacing earlier ones). Returns false, and
   * changes nothing, when the type is not a non-empty string or a reader is not a function.
   */
  register(entityType: string, readers: EntityReaders): boolean {
    if (
      typeof entityType !== 'string' || entityType.length === 0 || readers === null || typeof readers !== 'object' ||
      typeof readers.source !== 'function' || typeof readers.target !== 'function'
    ) {
      this.counters.invalidRegistrations++;
      return false;
    }
    this.readers.set(entityType, { source: readers.source.bind(readers), target: readers.target.bind(readers) });
    return true;
  }

  /** Checks waiting for their delay plus checks reading now. */
  get pending(): number {
    return this.queue.length - this.head + this.running;
  }

  onStart(): void {}

  onEnd(span: Span): void {
    if (this.readers.size === 0 || this.shutDown) return;
    const a = span.attributes;
    if (a[ATTR.stage] !== 'write') return;
    const type = a[ATTR.entityType];
    if (typeof type !== 'string') return;
    const readers = this.readers.get(type);
    if (readers === undefined) return;
    // A failed write is already a stage-error; comparing its target would only repeat that.
    if (span.status.code === 'error') return;
    const rawKey = a[ATTR.entityKey];
    const key = typeof rawKey === 'string' && rawKey.length > 0 ? rawKey : typeof rawKey === 'number' && Number.isFinite(rawKey) ? String(rawKey) : undefined;
    const target = a[ATTR.target];
    if (key === undefined || typeof target !== 'string' || target.length === 0) return;
    // A write to a service or a queue hands the record on (DESIGN §3): there is nothing stored there to compare.
    if (HANDS_ON.test(target)) return;
    if (this.pending >= this.maxPending) {
      this.counters.dropped++;
      return;
    }
    const rawVersion = a[ATTR.entityVersion];
    const entity: ReconcileEntity =
      (typeof rawVersion === 'string' && rawVersion.length > 0) || (typeof rawVersion === 'number' && Number.isFinite(rawVersion))
        ? { type, key, version: String(rawVersion) }
        : { type, key };
    // Our own spans can still hand out child positions after they end, so the reconcile span gets a
    // fresh rpcid below the write; another tracer's span is referred to by its context only.
    const parent: SpanHandle | SpanContext =
      typeof (span as Partial<SpanHandle>).nextChildIndex === 'function'
        ? (span as unknown as SpanHandle)
        : { traceId: span.traceId, spanId: span.spanId, traceFlags: TRACE_FLAG_SAMPLED, rpcid: span.rpcid };
    this.queue.push({ parent, entity, target, readers, dueMs: performance.now() + this.delayMs });
    this.counters.scheduled++;
    if (this.timer === undefined) this.arm();
  }

  /** Checks are delayed on purpose: a flush does not run them early. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Cancels the checks still waiting (counted in `cancelled`); a check already reading finishes on its own. Idempotent. */
  shutdown(): Promise<void> {
    if (!this.shutDown) {
      this.shutDown = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.counters.cancelled += this.queue.length - this.head;
      this.queue = [];
      this.head = 0;
    }
    return Promise.resolve();
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (next === undefined || this.shutDown) return;
    this.timer = setTimeout(this.fire, Math.max(0, next.dueMs - performance.now()));
    // A pending check must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private runDue(): void {
    this.timer = undefined;
    const now = performance.now();
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.dueMs <= now) {
      const check = queue[this.head]!;
      queue[this.head++] = undefined as unknown as Check; // let the write span go
      this.running++;
      void this.run(check).finally(() => {
        this.running--;
      });
    }
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }

  private async run(check: Check): Promise<void> {
    const { entity, target, readers } = check;
    const tracer = this.tracer ?? getGlobalTracing().getTracer(RECONCILE_SCOPE);
    const span = tracer.startSpan(`reconcile ${entity.type}`, { kind: 'internal', parent: check.parent });
    span.setAttribute(ATTR.entityType, entity.type);
    span.setAttribute(ATTR.entityKey, entity.key);
    if (entity.version !== undefined) span.setAttribute(ATTR.entityVersion, entity.version);
    span.setAttribute(ATTR.target, target);
    span.setAttribute(RECONCILE_ATTR.delayMs, this.delayMs);
    const [source, found] = await Promise.all([
      this.read('source', () => readers.source(entity.key, entity)),
      this.read('target', () => readers.target(entity.key, target, entity)),
    ]);
    let result: ReconcileResult;
    if (source instanceof Error || found instanceof Error) {
      this.counters.failed++;
      result = 'unknown';
      span.setStatus('error', (source instanceof Error ? source : (found as Error)).message.slice(0, STATUS_MESSAGE_LIMIT));
    } else {
      result = compareStates(source, found);
    }
    this.counters[result]++;
    span.setAttribute(RECONCILE_ATTR.result, result);
    if (!(source instanceof Error)) setState(span, source, RECONCILE_ATTR.sourceVersion, RECONCILE_ATTR.sourceHash);
    if (!(found instanceof Error)) setState(span, found, RECONCILE_ATTR.targetVersion, RECONCILE_ATTR.targetHash);
    span.end();
  }

  /** One side's state, or the Error that explains why there is none. Never rejects. */
  private async read(side: string, reader: () => Promise<ReadResult> | ReadResult): Promise<RecordState | undefined | Error> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${side} reader timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        timer.unref();
      });
      const value = await Promise.race([Promise.resolve().then(reader), timeout]);
      return toRecordState(value);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return new Error(message.startsWith(side) ? message : `${side} reader failed: ${message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A reconciler with the given options; pass it in `processors` and register entity types on it. */
export function createReconciler(options?: ReconcilerOptions): Reconciler {
  return new Reconciler(options);
}

function setState(span: SpanHandle, state: RecordState | undefined, versionKey: string, hashKey: string): void {
  if (state === undefined) return;
  if (state.version !== undefined) span.setAttribute(versionKey, state.version);
  if (state.hash !== undefined) span.setAttribute(hashKey, state.hash);
}

function nonNegative(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}
