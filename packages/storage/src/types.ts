/**
 * The one reader/writer interface every storage backend implements (DESIGN §6). The server, the
 * analysis stage and the query API speak only this; the shared contract suite (`src/contract/`) holds
 * every backend to the same behaviour.
 */
import type { AttributeScalar, Finding, RuleId, SdkDropReport, Span, SpanKind, StatusCode } from '@linktrace/model';

// Findings and their rule ids (DESIGN §4) live in the model, shared with the analysis package.
export { RULE_IDS } from '@linktrace/model';
export type { Finding, RuleId } from '@linktrace/model';
export type { SdkDropReport } from '@linktrace/model';

/**
 * A trace search. A trace matches when ONE of its spans meets every condition given; the whole
 * trace is then returned. Absent fields do not filter.
 */
export interface TraceQuery {
  /** The span's service, exactly. */
  service?: string;
  /** The span's name (operation), exactly. */
  operation?: string;
  /**
   * `key = value` conditions, all required. A condition holds when the key has that value in the
   * span's attributes, its resource or scope attributes, or the attributes of one of its events or
   * links. Values compare by their text form, so `200`, `'200'` and an integer attribute 200 match
   * each other, `true` matches `'true'`.
   */
  attributes?: Readonly<Record<string, AttributeScalar>>;
  /** Inclusive bounds on the span's duration, µs. Start records (no duration yet) never match them. */
  minDurationUs?: number;
  maxDurationUs?: number;
  /** Inclusive bounds on the span's start time, µs since the epoch. */
  startUs?: number;
  endUs?: number;
  status?: StatusCode;
  /**
   * `true`: only traces with at least one stored finding; `false`: only traces without any. Unlike
   * the span conditions above, this is a condition on the whole trace.
   */
  hasFindings?: boolean;
  /** Most traces returned, newest first; default 20, at most 10 000. */
  limit?: number;
}

export const DEFAULT_TRACE_LIMIT = 20;
export const MAX_TRACE_LIMIT = 10_000;

/** One search hit: a whole trace summarised (start records merged with their end records). */
export interface TraceSummary {
  traceId: string;
  /** Earliest span start, µs. */
  startUs: number;
  /** Latest span end minus `startUs`, µs (start records count with their start only). */
  durationUs: number;
  spanCount: number;
  errorCount: number;
  /** Distinct services, sorted. */
  services: string[];
  /** The earliest span without a parent, when the trace has one. */
  root?: { service: string; name: string };
  /** Stored findings of the trace (one per broken hop and rule). */
  findingCount: number;
}

export interface Operation {
  name: string;
  kind: SpanKind;
}

/**
 * A caller → callee edge between services. Counts calls (child spans) in the window and those that
 * ended in error. Producer → consumer edges through queues are included (a consumer span whose
 * parent or link is a producer span); a client or producer span whose peer was not traced yields an
 * edge to the peer's service name (`remote.service`) when it has one.
 */
export interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
  errorCount: number;
}

/** Findings filter; absent fields do not filter. Time bounds are inclusive on `timeUs`. */
export interface FindingFilter {
  traceId?: string;
  rule?: RuleId;
  service?: string;
  startUs?: number;
  endUs?: number;
  /** Default 100, at most 10 000. Newest first. */
  limit?: number;
}

export const DEFAULT_FINDING_LIMIT = 100;
export const MAX_FINDING_LIMIT = 10_000;

/**
 * One edge of the service map (analysis `topology.ts` builds the graph from these): `from` and `to`
 * are service names or queues (`mq:<name>`). A producer span (kind producer or stage `enqueue`) with
 * a queue target (`linktrace.target` `mq:<name>`, else `messaging.destination.name`) makes
 * producer service → queue; a consumer span (kind consumer or stage `dequeue`/`consume`) whose
 * parent or link is such a producer makes queue → consumer service; a span whose parent is in
 * another service makes caller → callee (Zipkin shared halves: client → server); a client or
 * producer span no traced service answered makes service → `remote.service`. `p99Us` is the nearest
 * rank p99 of the callee side's durations (the producer's for producer → queue, the client's for an
 * untraced peer), 0 when no call has ended. One row per (from, to), sorted by from then to.
 */
export interface ServiceMapRow {
  from: string;
  to: string;
  callCount: number;
  errorCount: number;
  p99Us: number;
  /**
   * Present (true) on the row of calls whose timed span was inferred from access logs
   * (`linktrace.inferred` = true, docs/inference.md): inferred and recorded calls between the same
   * two services are separate rows, so the map can draw them differently.
   */
  inferred?: true;
}

export interface WriteSpansOptions {
  /**
   * arrivedUs: when the batch arrived, µs; default the store's clock. Given by a caller that stores
   * spans later than they reached the server (a write-ahead log replayed after a crash), so that
   * retention counts from when they really came in. A non-negative safe integer, else the call
   * rejects with a `RangeError` (a caller's bug, not bad spans: nothing is stored).
   */
  arrivedUs?: number;
}

/** What a deletion removed. */
export interface DeletedRecords {
  /** Stored span records removed (a start record stored apart from its end record counts too). */
  spans: number;
  findings: number;
}

export interface RetentionResult extends DeletedRecords {
  /** SDK drop reports received before the cutoff (`reportedUs` < `us`), removed. */
  sdkDropReports: number;
}

export interface StoreStats {
  /** Stored span records: a start record stored apart from its end record counts too. */
  spanRecords: number;
  findings: number;
  /** Bytes the backend occupies on disk (0 when it has none). */
  diskBytes: number;
}

export interface SpanStore {
  /**
   * Stores a batch. Resolves once the spans are durable in the backend; rejects with a
   * `StorageInputError` (nothing stored) when any span is malformed. A span may be written more than
   * once (a start record, then its full record): reads return it once, the full record winning.
   * Retention (`deleteBefore`) counts from the batch's arrival.
   */
  writeSpans(spans: readonly Span[], options?: WriteSpansOptions): Promise<void>;
  /** All spans of a trace, by start time; `[]` for an unknown or malformed id (never rejects for it). */
  getTrace(traceId: string): Promise<Span[]>;
  /** Several traces at once, in the order asked; unknown or malformed ids yield `[]`. */
  getTraces(traceIds: readonly string[]): Promise<Span[][]>;
  /** Traces with a span matching the query, newest first. Rejects with `StorageInputError` on a bad query. */
  findTraces(query: TraceQuery): Promise<TraceSummary[]>;
  /** Service names, sorted. */
  services(): Promise<string[]>;
  /** Span names seen for a service (optionally of one kind), sorted by name then kind. */
  operations(service: string, kind?: SpanKind): Promise<Operation[]>;
  /** Service edges for spans starting within [startUs, endUs], sorted by parent then child. */
  dependencies(startUs: number, endUs: number): Promise<DependencyLink[]>;
  /** Service-map edges (services and queues) for spans starting within [startUs, endUs]; see `ServiceMapRow`. */
  serviceMapRows(startUs: number, endUs: number): Promise<ServiceMapRow[]>;
  /**
   * Stores findings. A finding with the same (traceId, rule, spanId) as a stored one replaces it
   * (the checker may re-evaluate a trace when late spans arrive).
   */
  writeFindings(findings: readonly Finding[]): Promise<void>;
  findFindings(filter?: FindingFilter): Promise<Finding[]>;
  /**
   * Makes `findings` the whole set of findings of the traces `traceIds` (a re-checked trace whose late
   * spans cleared a fault loses that finding). Every finding must belong to one of `traceIds`.
   */
  replaceFindings(traceIds: readonly string[], findings: readonly Finding[]): Promise<void>;
  /**
   * Keeps the latest SDK drop report per (service, instance): a report replaces the stored one unless
   * that one was received later. Rejects with `StorageInputError` on a malformed report.
   */
  recordSdkDrops(reports: readonly SdkDropReport[]): Promise<void>;
  /** Every stored SDK drop report, sorted by service then instance. */
  sdkDrops(): Promise<SdkDropReport[]>;
  /**
   * Retention (DESIGN §6): removes the span records that ARRIVED (were written, by the store's clock)
   * before `us`, µs since the epoch, whatever their own timestamps say, so imported history lives as
   * long as fresh data. Findings follow their trace: those of a trace left without records go too.
   * SDK drop reports received (`reportedUs`, the server's clock) before `us` go as well.
   */
  deleteBefore(us: number): Promise<RetentionResult>;
  /** Tail sampling: removes every span record of these traces and their findings; unknown ids are ignored. */
  deleteTraces(traceIds: readonly string[]): Promise<DeletedRecords>;
  stats(): Promise<StoreStats>;
  /** Waits for pending writes, then releases the backend. Later calls reject. */
  close(): Promise<void>;
}
