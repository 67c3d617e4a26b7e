/**
 * Black-box inference (docs/inference.md): who called whom, from access-log records alone.
 *
 * Two matchings, each solved jointly (minimum-cost assignment per connected group of ambiguous
 * records, never first come, first served):
 * 1. callee side: each `in` record to the `out` record that made it — by connection (`in.remote ==
 *    out.local`) where the logs have ports, otherwise by timing, on clocks corrected by per-host
 *    offsets (clock-offsets.ts) and scored by per-edge network-gap models;
 * 2. caller side: each `out` record to the `in` record being handled when it was made (same host,
 *    same clock), scored by the call structure learned per endpoint (call-structure.ts) with one slot
 *    per expected call, so a request cannot take more calls than its endpoint makes.
 * Models start broad and are refitted from the confident matches (a second pass over the first
 * block, then continuously): EM-style refinement. Confidence is the posterior of the choice against
 * its best alternative (min-marginals), see `confidence`.
 *
 * Streaming: records are held for a bounded window of log time (`windowUs`), processed block by
 * block, and dropped; memory follows the window, never the file.
 */
import { assignCalls, type AssignCall, type AssignParent } from './caller-assignment.js';
import { CallStructure } from './call-structure.js';
import { ClockOffsets } from './clock-offsets.js';
import { DOUBLE_ZERO, GaussianStats, logNormalDensity } from './gaussian-stats.js';
import { hostOf, type InferredLink, type LogRecord } from './log-record.js';
import { FORBIDDEN, assignmentCost, minCostAssignment } from './min-cost-assignment.js';
import { HeldColumns } from './held-columns.js';
import { StartTable } from './start-table.js';
import { TimeList, byStart } from './time-list.js';

export interface InferOptions {
  /**
   * Log time (µs) a record waits for the records it may be matched with: longer than the longest
   * request plus the worst clock offset plus how far out of order the input is. Default 10 s.
   */
  windowUs?: number;
  /** Widest clock offset looked for between two hosts by timing alone, µs. Default 50 ms. */
  maxSkewUs?: number;
  /** Largest network + proxy time one way, µs. Default 20 ms. */
  maxNetUs?: number;
}

export interface EmittedLink extends InferredLink {
  /** Line of the root `in` record of the inferred tree. */
  root: number;
  /** This line repeats an earlier identical record: it gets the same decision. */
  duplicateOf?: number;
  /** Line of the `out` record the parent made this call with, when it logged one. */
  call?: number;
}

export interface EmittedCall {
  record: number;
  /** The `in` record being handled when the call was made, or null. */
  parent: number | null;
  /** The `in` record the call caused on the callee, or null (the callee does not log, or its record is lost). */
  callee: number | null;
  confidence: number;
  root: number | null;
}

export interface InferenceSink {
  link(link: EmittedLink, record: LogRecord): void;
  call?(call: EmittedCall, record: LogRecord): void;
}

export interface InferenceReport {
  records: number;
  ins: number;
  outs: number;
  duplicates: number;
  /** Records that came after the window they belong to had been decided (input too far out of order). */
  late: number;
  lateLines: number[];
  roots: number;
  linked: number;
  /** µs per host (common clock = mean of a connected group); hosts with no estimate are absent. */
  hostOffsetsUs: Record<string, number>;
  /** Records whose start is far ahead of the other hosts' logs (a wildly wrong clock), decided as roots. */
  farAhead: number;
  /** Hosts those records came from, with their counts. */
  farAheadHosts: Record<string, number>;
  /** Records longer than the window: their calls may have been decided without them. */
  longerThanWindow: number;
  /** Most records held at once. */
  peakHeld: number;
}

/**
 * A held record. A class with every field set in the constructor: one hidden class for all of
 * them, so the hot loops' property reads stay monomorphic whatever shapes the input records have.
 * Its numbers live in the inferrer's typed columns (held-columns.ts), at `row`: as fields, each
 * would be a heap box of its own surviving the record's three windows.
 */
class Rec {
  readonly line: number;
  readonly service: string;
  readonly instance: string;
  readonly endpoint: string;
  readonly remote: string | undefined;
  readonly local: string | undefined;
  readonly peer: string | undefined;
  readonly status: number | undefined;
  /** `service endpoint`: the call-structure key, shared by all records of that endpoint. */
  readonly key: string;
  readonly row: number;
  /** Its row was given back (after the prune that dropped it, once nothing held reads it). */
  released = false;
  /** Dropped from the context by prune. */
  pruned = false;
  dups: LogRecord[] | undefined = undefined;
  /** The next held record in its start-time chain (start-table.ts). */
  sameNext: Rec | undefined = undefined;
  /** The index lists holding it (time-list.ts), to leave them when dropped. */
  lists: TimeList<Rec>[] | undefined = undefined;
  // out side
  callee: Rec | undefined = undefined;
  parent: Rec | null | undefined = undefined;
  stage2 = false;
  waiting: Rec[] | undefined = undefined;
  emittedCall = false;
  // in side
  call: Rec | null | undefined = undefined;
  decided = false;
  emitted = false;
  finalParent: Rec | null | undefined = undefined;
  rootLine: number;
  waitingKids: Rec[] | undefined = undefined;
  kids: Rec[] | undefined = undefined;
  tallied = false;
  /** Scratch: its index among a caller-side group's parents while the group is built, else −1. */
  slot = -1;
  /** Scratch of groupsOf: the first row that named it as a candidate, else −1. */
  groupOwner = -1;

  constructor(
    r: LogRecord,
    readonly host: string,
    readonly isIn: boolean,
    key: string,
    private readonly cols: HeldColumns,
  ) {
    this.line = r.line;
    this.service = r.service;
    this.instance = r.instance;
    this.endpoint = r.endpoint;
    this.remote = r.remote;
    this.local = r.local;
    this.peer = r.peer;
    this.status = r.status;
    this.key = key;
    this.row = cols.alloc(r.startUs, r.endUs);
    this.rootLine = r.line;
  }

  get s(): number {
    return this.cols.s[this.row]!;
  }

  get e(): number {
    return this.cols.e[this.row]!;
  }

  /** Callee side: the chosen call's confidence. */
  get c1(): number {
    return this.cols.c1[this.row]!;
  }

  set c1(v: number) {
    this.cols.c1[this.row] = v;
  }

  /** Caller side: the chosen parent's confidence. */
  get c2(): number {
    return this.cols.c2[this.row]!;
  }

  set c2(v: number) {
    this.cols.c2[this.row] = v;
  }

  /** The caller side's untempered posterior (learning thresholds). */
  get c2raw(): number {
    return this.cols.c2raw[this.row]!;
  }

  set c2raw(v: number) {
    this.cols.c2raw[this.row] = v;
  }

  get conf(): number {
    return this.cols.conf[this.row]!;
  }

  set conf(v: number) {
    this.cols.conf[this.row] = v;
  }

  /**
   * The input record, for the sink: made when it is emitted rather than kept, so a held record is
   * one object, not two.
   */
  record(): LogRecord {
    return { line: this.line, direction: this.isIn ? 'in' : 'out', service: this.service, instance: this.instance, endpoint: this.endpoint, startUs: this.s, endUs: this.e, remote: this.remote, local: this.local, peer: this.peer, status: this.status };
  }

  release(): void {
    this.released = true;
    this.cols.release(this.row);
  }
}

const LATE_LINES_KEPT = 20;
/** A record further ahead of the watermark than this many windows is from a clock too wrong to use. */
const FAR_AHEAD_WINDOWS = 10;
const MAX_CANDIDATES = 40;
/** A minimum-cost group bigger than this gets per-row confidences (re-solving per row would cost too much). */
const MAX_MARGINAL_ROWS = 14;
/** Exact connection evidence: how much likelier a call on the same connection is than one by timing alone. */
const CONNECTION_BONUS = Math.log(200);
/** Broad network model before anything is learned, µs. */
const NET_MEAN = 500;
const NET_SD = 2000;
const NET_MIN_SD = 40;
const LEARN_CONFIDENCE = 0.95;
/** Refits of the call structure on a block while the model is young. */
const EM_ROUNDS = 3;
/** Records of a block the EM rounds look at. */
const EM_SAMPLE = 4000;
/** Records per host and block that keep feeding the clock estimate once it is known. */
const OFFSET_SAMPLE = 100;
/** Requests learned from before the structure model learns from one in eight. */
const LEARN_ALL_UNTIL = 5000;

/**
 * One `in` record's candidate calls (calleeCandidates), in columns reused for every record: the
 * candidates are read right away, so keeping them as objects only fed the garbage collector.
 */
class CandidateColumns {
  readonly out: Rec[] = [];
  /** The two network gaps (clock-corrected): call start → request start, request end → call end. */
  n1 = new Float64Array(256);
  n2 = new Float64Array(256);
  /** 1 when matched by connection (the `in` record's remote is the call's local). */
  connection = new Uint8Array(256);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  add(out: Rec, n1: number, n2: number, connection: boolean): void {
    if (this.size === this.n1.length) {
      const n1s = new Float64Array(2 * this.n1.length);
      const n2s = new Float64Array(2 * this.n1.length);
      const conns = new Uint8Array(2 * this.n1.length);
      n1s.set(this.n1);
      n2s.set(this.n2);
      conns.set(this.connection);
      this.n1 = n1s;
      this.n2 = n2s;
      this.connection = conns;
    }
    const k = this.size++;
    this.out[k] = out;
    this.n1[k] = n1;
    this.n2[k] = n2;
    this.connection[k] = connection ? 1 : 0;
  }
}

/** √(a² + b² + c²) for the µs-scale spreads here (no overflow to guard against, unlike Math.hypot, which allocates its arguments). */
function rootSumSquares(a: number, b: number, c: number): number {
  return Math.sqrt(a * a + b * b + c * c);
}

function logistic(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function lowerBound(list: readonly Rec[], s: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.s < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const NO_RECS: readonly Rec[] = [];

interface CallerRow {
  rec: Rec;
  parents: Rec[];
  parent: Rec | null;
  confidence: number;
  certainty: number;
}

/**
 * A caller-side group: its rows and their possible parents. The search's input (AssignCall and
 * AssignParent objects) is made right before the group is solved and dropped right after, rather
 * than for every group of the block first: made up front, it outlived several young-generation
 * collections and was copied by each.
 */
interface CallerGroup {
  rows: CallerRow[];
  parents: Rec[];
  /** Parents' calls already decided count as priors (not in the EM rounds). */
  withPrior: boolean;
  blockEnd: number;
}

function startOrdered(rows: readonly { rec: Rec }[]): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i]!.rec.s < rows[i - 1]!.rec.s) return false;
  return true;
}

/** Whether any of a request's calls was placed with a certainty too low to learn from. */
function unsureCall(kids: readonly Rec[]): boolean {
  for (const k of kids) if (k.c2raw < 0.9) return true;
  return false;
}

function sameRecord(x: Rec, r: LogRecord): boolean {
  return x.s === r.startUs && x.e === r.endUs && x.isIn === (r.direction === 'in') && x.instance === r.instance && x.endpoint === r.endpoint && x.remote === r.remote && x.local === r.local && x.service === r.service;
}

/** A candidate of one row in a group: column key and score (log-likelihood, higher is better). */
interface Cand {
  /** Column: ≥ 0 a record's line, < 0 a row's own "none" column. */
  key: number;
  /** Alternatives that are "the same answer" share a group. */
  group: number;
  score: number;
  target: Rec | null;
}

interface Solved {
  choice: Cand;
  confidence: number;
}

function distinctGroups(row: readonly Cand[]): boolean {
  for (let i = 1; i < row.length; i++) for (let k = 0; k < i; k++) if (row[i]!.group === row[k]!.group) return false;
  return true;
}

/**
 * Solves one group of rows jointly: each row takes one candidate, no candidate key twice.
 * Each row must offer its own null candidate (a unique key).
 */
function solveGroup(cands: readonly Cand[][]): Solved[] {
  const n = cands.length;
  if (n === 1) {
    const row = cands[0]!;
    let best = row[0]!;
    for (const c of row) if (c.score > best.score) best = c;
    if (distinctGroups(row)) {
      // Every candidate its own answer (the usual case): the posterior without a map.
      let z = 0;
      for (const c of row) z += Math.exp(c.score - best.score);
      return [{ choice: best, confidence: 1 / z }];
    }
    // Posterior over answers: each answer's best-scoring candidate.
    const byGroup = new Map<number, number>();
    for (const c of row) byGroup.set(c.group, Math.max(byGroup.get(c.group) ?? -Infinity, c.score));
    let z = 0;
    for (const s of byGroup.values()) z += Math.exp(s - best.score);
    return [{ choice: best, confidence: 1 / z }];
  }
  const colOf = new Map<number, number>();
  const colList: Cand[] = [];
  for (const row of cands) for (const c of row) if (!colOf.has(c.key)) {
    colOf.set(c.key, colList.length);
    colList.push(c);
  }
  const m = colList.length;
  const cost = new Float64Array(n * m).fill(FORBIDDEN);
  for (let r = 0; r < n; r++) for (const c of cands[r]!) cost[r * m + colOf.get(c.key)!] = -c.score;
  const best = minCostAssignment(cost, n, m);
  const total = assignmentCost(cost, m, best);
  const out: Solved[] = [];
  for (let r = 0; r < n; r++) {
    const chosen = cands[r]!.find((c) => colOf.get(c.key) === best[r])!;
    let confidence: number;
    if (n <= MAX_MARGINAL_ROWS) {
      // Min-marginal: the best whole assignment in which this row gives a different answer.
      const saved: [number, number][] = [];
      for (const c of cands[r]!) if (c.group === chosen.group) {
        const at = r * m + colOf.get(c.key)!;
        saved.push([at, cost[at]!]);
        cost[at] = FORBIDDEN;
      }
      const alt = minCostAssignment(cost, n, m);
      const altTotal = assignmentCost(cost, m, alt);
      for (const [at, v] of saved) cost[at] = v;
      confidence = altTotal >= FORBIDDEN / 2 ? 1 : logistic(altTotal - total);
    } else {
      // Per row, the others held fixed: the row's answers among columns nobody else took.
      const taken = new Set<number>();
      for (let q = 0; q < n; q++) if (q !== r) taken.add(best[q]!);
      const byGroup = new Map<number, number>();
      for (const c of cands[r]!) if (!taken.has(colOf.get(c.key)!)) byGroup.set(c.group, Math.max(byGroup.get(c.group) ?? -Infinity, c.score));
      let z = 0;
      for (const s of byGroup.values()) z += Math.exp(s - chosen.score);
      confidence = 1 / Math.max(1, z);
    }
    out.push({ choice: chosen, confidence });
  }
  return out;
}

/**
 * Splits rows into groups that share a candidate record (union–find). `keyAt` gives a row's k-th
 * candidate record, or null for an answer of the row's own ("none"), which no other row shares.
 * Which row first named a record is kept on the record itself (`groupOwner`, reset before
 * returning): a map keyed by line numbers cost a hash insert per candidate.
 */
function groupsOf<T>(rows: readonly T[], keyCount: (row: T) => number, keyAt: (row: T, k: number) => Rec | null): T[][] {
  const n = rows.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    const count = keyCount(row);
    for (let k = 0; k < count; k++) {
      const key = keyAt(row, k);
      if (key === null) continue;
      const o = key.groupOwner;
      if (o < 0) key.groupOwner = i;
      else parent[find(i)] = find(o);
    }
  }
  for (const row of rows) {
    const count = keyCount(row);
    for (let k = 0; k < count; k++) {
      const key = keyAt(row, k);
      if (key !== null) key.groupOwner = -1;
    }
  }
  // Groups in the order of their first row, rows in their own order.
  const byRoot: (T[] | undefined)[] = new Array(n);
  const groups: T[][] = [];
  for (let i = 0; i < n; i++) {
    const root = find(i);
    const g = byRoot[root];
    if (g === undefined) groups.push((byRoot[root] = [rows[i]!]));
    else g.push(rows[i]!);
  }
  return groups;
}

export class LinkInferrer {
  private readonly windowUs: number;
  private readonly maxSkewUs: number;
  private readonly maxNetUs: number;
  private readonly clocks = new ClockOffsets();
  private structure = new CallStructure();
  /** Network gap models per caller service → callee service: request out → in start, in end → out end. */
  private readonly net1 = new Map<string, Map<string, GaussianStats>>();
  private readonly net2 = new Map<string, Map<string, GaussianStats>>();
  private readonly roots = new Map<string, [number, number]>();
  /**
   * Indices over the held context, kept up to date as records join it and leave it: `in` records per
   * instance; `out` records per connection (our side, `local`); per endpoint and host; and the same
   * for `out` records that do not name their connection (the only timing candidates of a request
   * that knows its own).
   */
  private readonly insAt = new Map<string, TimeList<Rec>>();
  private readonly outsByLocal = new Map<string, TimeList<Rec>>();
  private readonly outsByEndpoint = new Map<string, Map<string, TimeList<Rec>>>();
  private readonly bareOutsByEndpoint = new Map<string, Map<string, TimeList<Rec>>>();
  /** Interned per instance: its host; per service and endpoint: the call-structure key (no string built per record). */
  private readonly hostByInstance = new Map<string, string>();
  private readonly keyOf = new Map<string, Map<string, string>>();
  /** Records not yet merged into the context, in arrival order. */
  private pending: Rec[] = [];
  /** Held records, sorted by start. */
  private ctx: Rec[] = [];
  /** The held records' numbers, one row each (held-columns.ts). */
  private readonly cols = new HeldColumns();
  /** Dropped `out` records whose row a held record may still read (see `releasable`). */
  private unreleased: Rec[] = [];
  /** Held records by start time: duplicate lines are found among records that start at the same µs. */
  private readonly startTable = new StartTable<Rec>();
  private blockStart: number | undefined;
  private maxStart = -Infinity;
  private msResolution = true;
  private readonly instances = new Set<string>();
  /** Latest start seen per host; the watermark is their median, so one host with a wild clock cannot drag it. */
  private readonly hostMax = new Map<string, number>();
  private sinceWatermark = 0;
  /** Longest `in` record seen (capped by the window): how far back a parent can have started. */
  private maxDurUs = 0;
  private readonly farAheadHosts = new Map<string, number>();
  /** netWindow's answer. */
  /** calleeCandidates' answer, reused for every record. */
  private readonly found = new CandidateColumns();
  // Doubles from the start (DOUBLE_ZERO): the first learned network model makes them fractions, and
  // a field that changes from small integer to double changes the inferrer's class layout, throwing
  // away every optimised function that had used it.
  private netLo = DOUBLE_ZERO;
  private netHi = DOUBLE_ZERO;
  private readonly stats: InferenceReport = {
    records: 0,
    ins: 0,
    outs: 0,
    duplicates: 0,
    late: 0,
    lateLines: [],
    roots: 0,
    linked: 0,
    hostOffsetsUs: {},
    farAhead: 0,
    farAheadHosts: {},
    longerThanWindow: 0,
    peakHeld: 0,
  };

  constructor(
    private readonly sink: InferenceSink,
    opts: InferOptions = {},
  ) {
    this.windowUs = opts.windowUs ?? 10_000_000;
    this.maxSkewUs = opts.maxSkewUs ?? 50_000;
    this.maxNetUs = opts.maxNetUs ?? 20_000;
    if (!(this.windowUs > 0)) throw new RangeError('windowUs must be > 0');
  }

  /** Adds one record (any order within the window); decided records go to the sink as their block completes. */
  push(record: LogRecord): void {
    const st = this.stats;
    st.records++;
    const isIn = record.direction === 'in';
    if (isIn) st.ins++;
    else st.outs++;
    if (record.endUs - record.startUs > this.windowUs) st.longerThanWindow++;
    if (isIn && record.endUs - record.startUs > this.maxDurUs) this.maxDurUs = Math.min(this.windowUs, record.endUs - record.startUs);
    const same = this.findSame(record);
    if (same !== undefined) {
      st.duplicates++;
      if (same.emitted && isIn) this.emitDuplicate(same, record);
      else if (isIn) (same.dups ??= []).push(record);
      else if (!isIn && same.emittedCall) this.sink.call?.({ record: record.line, parent: null, callee: null, confidence: 0, root: null }, record);
      else (same.dups ??= []).push(record);
      return;
    }
    if (this.blockStart !== undefined && record.startUs < this.blockStart) {
      // Its block is decided and gone: say so, and give it the answer we can still give.
      st.late++;
      if (st.lateLines.length < LATE_LINES_KEPT) st.lateLines.push(record.line);
      if (isIn) {
        st.roots++;
        this.sink.link({ record: record.line, parent: null, confidence: this.rootRate(record.endpoint), root: record.line }, record);
      } else this.sink.call?.({ record: record.line, parent: null, callee: null, confidence: 0, root: null }, record);
      return;
    }
    let host = this.hostByInstance.get(record.instance);
    if (host === undefined) this.hostByInstance.set(record.instance, (host = hostOf(record.instance)));
    if (this.blockStart !== undefined && record.startUs > this.maxStart + FAR_AHEAD_WINDOWS * this.windowUs && this.hostMax.size >= 2) {
      // Far ahead of the other hosts' logs: a clock this wrong cannot be matched within the window.
      st.farAhead++;
      this.farAheadHosts.set(host, (this.farAheadHosts.get(host) ?? 0) + 1);
      if (isIn) {
        st.roots++;
        this.sink.link({ record: record.line, parent: null, confidence: this.rootRate(record.endpoint), root: record.line }, record);
      } else this.sink.call?.({ record: record.line, parent: null, callee: null, confidence: 0, root: null }, record);
      return;
    }
    if (this.msResolution && (record.startUs % 1000 !== 0 || record.endUs % 1000 !== 0)) this.msResolution = false;
    const rec = new Rec(record, host, isIn, this.keyFor(record.service, record.endpoint), this.cols);
    this.startTable.add(rec);
    if (isIn) this.instances.add(record.instance);
    this.pending.push(rec);
    const hostMax = this.hostMax.get(rec.host);
    if (hostMax === undefined || record.startUs > hostMax) {
      this.hostMax.set(rec.host, record.startUs);
      if (hostMax === undefined || ++this.sinceWatermark >= 16) this.updateWatermark();
    }
    this.blockStart ??= record.startUs - this.windowUs;
    // A block is decided once records that may still belong to it can no longer arrive (one window
    // of disorder) and its context reaches one window on each side.
    while (this.maxStart >= this.blockStart + 3 * this.windowUs) this.processBlock();
    const held = this.pending.length + this.ctx.length;
    if (held > st.peakHeld) st.peakHeld = held;
  }

  /** Decides everything still held. */
  finish(): InferenceReport {
    while (this.blockStart !== undefined && (this.pending.length > 0 || this.ctx.length > 0)) this.processBlock();
    this.prune(Infinity);
    this.stats.farAheadHosts = Object.fromEntries(this.farAheadHosts);
    this.stats.hostOffsetsUs = Object.fromEntries([...this.clocks.all()].map(([h, v]) => [h, Math.round(v)]));
    return { ...this.stats, lateLines: [...this.stats.lateLines] };
  }

  private keyFor(service: string, endpoint: string): string {
    let byEndpoint = this.keyOf.get(service);
    if (byEndpoint === undefined) this.keyOf.set(service, (byEndpoint = new Map()));
    let key = byEndpoint.get(endpoint);
    if (key === undefined) byEndpoint.set(endpoint, (key = `${service} ${endpoint}`));
    return key;
  }

  /** Enters a record joining the context into the indices. */
  private index(rec: Rec): void {
    if (rec.isIn) {
      const list = TimeList.in(this.insAt, rec.instance);
      list.insert(rec);
      rec.lists = [list];
      return;
    }
    const lists: TimeList<Rec>[] = [];
    if (rec.local !== undefined) lists.push(TimeList.in(this.outsByLocal, rec.local));
    lists.push(TimeList.in(this.hostsOf(this.outsByEndpoint, rec.endpoint), rec.host));
    if (rec.local === undefined) lists.push(TimeList.in(this.hostsOf(this.bareOutsByEndpoint, rec.endpoint), rec.host));
    for (const list of lists) list.insert(rec);
    rec.lists = lists;
  }

  private hostsOf(map: Map<string, Map<string, TimeList<Rec>>>, endpoint: string): Map<string, TimeList<Rec>> {
    let hosts = map.get(endpoint);
    if (hosts === undefined) map.set(endpoint, (hosts = new Map()));
    return hosts;
  }

  /** A held record identical to `r` (a duplicate line), if any. */
  private findSame(r: LogRecord): Rec | undefined {
    for (let x = this.startTable.chain(r.startUs); x !== undefined; x = x.sameNext) if (sameRecord(x, r)) return x;
    return undefined;
  }

  private updateWatermark(): void {
    this.sinceWatermark = 0;
    const all = [...this.hostMax.values()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.maxStart = all[(all.length - 1) >> 1]!;
  }

  private get tolUs(): number {
    return this.msResolution ? 1000 : 1;
  }

  private rootRate(endpoint: string): number {
    const c = this.roots.get(endpoint);
    return c === undefined ? 0.5 : (c[0] + 0.5) / (c[0] + c[1] + 1);
  }

  private processBlock(): void {
    const bs = this.blockStart!;
    const be = bs + this.windowUs;
    const w = this.windowUs;
    // Merge pending (sorted) into the context.
    if (this.pending.length > 0) {
      this.pending.sort(byStart);
      const a = this.ctx;
      const b = this.pending;
      if (a.length === 0 || a[a.length - 1]!.s <= b[0]!.s) {
        // The usual case, input in order: the new records all come after the held ones.
        for (const rec of b) a.push(rec);
      } else {
        const merged: Rec[] = new Array(a.length + b.length);
        let i = 0;
        let j = 0;
        let k = 0;
        while (i < a.length || j < b.length) {
          if (j >= b.length || (i < a.length && a[i]!.s <= b[j]!.s)) merged[k++] = a[i++]!;
          else merged[k++] = b[j++]!;
        }
        this.ctx = merged;
      }
      for (const rec of b) this.index(rec);
      this.pending = [];
    }
    // Nothing in this block or the next: jump over the quiet stretch of log time.
    if (this.ctx.length > 0 && this.ctx[0]!.s >= be + w) {
      this.blockStart = this.ctx[0]!.s - w;
      return;
    }
    // The block's own records: the indices over the whole context are kept up to date by merge and prune.
    const blockIns: Rec[] = [];
    const blockOuts: Rec[] = [];
    for (let k = lowerBound(this.ctx, bs); k < this.ctx.length; k++) {
      const rec = this.ctx[k]!;
      if (rec.s >= be) break;
      if (rec.isIn) {
        if (!rec.decided) blockIns.push(rec);
      } else if (!rec.stage2) blockOuts.push(rec);
    }
    const { insAt, outsByLocal, outsByEndpoint, bareOutsByEndpoint } = this;
    const young = this.structure.learnedParents < 300;
    this.observeOffsets(blockIns, outsByLocal, outsByEndpoint, bareOutsByEndpoint);
    this.clocks.solve();
    // EM: while the models are young, a first pass only teaches them, then the block is decided again.
    if (young) {
      // A sample is enough to teach the models; the whole block is then decided with them.
      this.refitStructure(blockOuts.slice(0, EM_SAMPLE), insAt, blockOuts.length > EM_SAMPLE ? blockOuts[EM_SAMPLE]!.s : be);
      this.calleeSide(blockIns.slice(0, EM_SAMPLE), outsByLocal, outsByEndpoint, bareOutsByEndpoint, true);
    }
    this.callerSide(blockOuts, insAt, be);
    this.calleeSide(blockIns, outsByLocal, outsByEndpoint, bareOutsByEndpoint, false);
    for (const rec of blockIns) this.settle(rec);
    this.tally(this.ctx, be, false);
    this.clocks.fade(0.7);
    this.blockStart = be;
    this.prune(be - w);
  }

  /**
   * Candidate caller records of `rec` (an `in`), with the network gaps they imply. `offsets`:
   * correct clocks and search a window sized by the learned network model; otherwise search the
   * widest offset allowed (to observe offsets).
   */
  private calleeCandidates(rec: Rec, outsByLocal: Map<string, TimeList<Rec>>, outsByEndpoint: Map<string, Map<string, TimeList<Rec>>>, bareOutsByEndpoint: Map<string, Map<string, TimeList<Rec>>>, offsets: boolean): CandidateColumns {
    const found = this.found;
    found.clear();
    const tol = this.tolUs;
    const durIn = rec.e - rec.s;
    const maxSum = 2 * this.maxNetUs;
    const remote = rec.remote;
    const inKnown = offsets && this.clocks.known(rec.host);
    const byConn = remote === undefined ? undefined : outsByLocal.get(remote);
    if (byConn !== undefined) {
      // Listed by start: only the calls near ours on this (keep-alive, much reused) connection.
      const reach = this.maxSkewUs + this.maxNetUs;
      const items = byConn.items;
      for (let k = byConn.lowerBound(rec.s - reach - this.maxNetUs); k < items.length; k++) {
        const out = items[k]!;
        if (out.s > rec.s + reach) break;
        if (out.instance === rec.instance) continue;
        const durOut = out.e - out.s;
        if (durOut < durIn - 2 * tol || durOut - durIn > maxSum) continue;
        const d = offsets ? this.clocks.offset(rec.host) - this.clocks.offset(out.host) : 0;
        const n1 = rec.s - d - out.s;
        const n2 = out.e - (rec.e - d);
        if (inKnown && this.clocks.known(out.host)) {
          this.netWindow(out.service, rec.service);
          if (n1 < this.netLo || n1 > this.netHi) continue;
        } else if (Math.abs(n1) > reach || Math.abs(n2) > reach) continue;
        found.add(out, n1, n2, true);
      }
    }
    // By timing: outs to our endpoint near our start (when we know our connection, only outs that do not name theirs).
    const hosts = (remote === undefined ? outsByEndpoint : bareOutsByEndpoint).get(rec.endpoint);
    if (hosts === undefined) return found;
    for (const list of hosts.values()) {
      const host = list.key;
      if (host === rec.host) continue;
      const known = inKnown && this.clocks.known(host);
      const d = offsets ? this.clocks.offset(rec.host) - this.clocks.offset(host) : 0;
      // out.s = rec.s − d − n1, with n1 in [lo, hi].
      let lo: number;
      let hi: number;
      if (known) {
        this.netWindow(list.first.service, rec.service);
        lo = this.netLo;
        hi = this.netHi;
      } else {
        lo = -this.maxSkewUs - tol;
        hi = this.maxSkewUs + this.maxNetUs;
      }
      const from = list.lowerBound(rec.s - d - hi);
      const items = list.items;
      const until = rec.s - d - lo;
      for (let k = from; k < items.length; k++) {
        const out = items[k]!;
        if (out.s > until) break;
        if (out.remote !== undefined && out.remote !== rec.instance && this.instances.has(out.remote)) continue;
        const durOut = out.e - out.s;
        if (durOut < durIn - 2 * tol || durOut - durIn > maxSum) continue;
        found.add(out, rec.s - d - out.s, out.e - (rec.e - d), false);
        if (found.size > MAX_CANDIDATES * 4) return found;
      }
    }
    return found;
  }

  /**
   * The range of the first network gap (caller's out start → callee's in start, corrected clocks)
   * worth a look, into `netLo`/`netHi` (called per candidate host: no pair allocated each time).
   */
  private netWindow(from: string, to: string): void {
    const m = this.net1.get(from)?.get(to);
    const sd = m !== undefined && m.weight >= 5 ? m.sd(NET_MIN_SD) : NET_SD;
    const mu = m !== undefined && m.weight >= 5 ? m.mean : NET_MEAN;
    this.netLo = mu - 6 * sd - this.tolUs;
    this.netHi = mu + 6 * sd + this.tolUs;
  }

  private observeOffsets(ins: readonly Rec[], outsByLocal: Map<string, TimeList<Rec>>, outsByEndpoint: Map<string, Map<string, TimeList<Rec>>>, bareOutsByEndpoint: Map<string, Map<string, TimeList<Rec>>>): void {
    // Once a host's clock is known, a sample of its records keeps the estimate current.
    const sampled = new Map<string, number>();
    for (const rec of ins) {
      if (this.clocks.known(rec.host)) {
        const n = sampled.get(rec.host) ?? 0;
        if (n >= OFFSET_SAMPLE) continue;
        sampled.set(rec.host, n + 1);
      }
      const cands = this.calleeCandidates(rec, outsByLocal, outsByEndpoint, bareOutsByEndpoint, false);
      if (cands.size === 0 || cands.size > MAX_CANDIDATES) continue;
      const weight = 1 / cands.size;
      for (let k = 0; k < cands.size; k++) this.clocks.observe(cands.out[k]!.host, rec.host, (cands.n1[k]! - cands.n2[k]!) / 2, cands.connection[k] === 1 ? 4 * weight : weight);
    }
  }

  private netModel(map: Map<string, Map<string, GaussianStats>>, from: string, to: string): GaussianStats {
    let byTo = map.get(from);
    if (byTo === undefined) map.set(from, (byTo = new Map()));
    let s = byTo.get(to);
    if (s === undefined) byTo.set(to, (s = new GaussianStats(1000)));
    return s;
  }

  /** Step 1: each `in` record to the `out` record that caused it, or none. */
  private calleeSide(ins: readonly Rec[], outsByLocal: Map<string, TimeList<Rec>>, outsByEndpoint: Map<string, Map<string, TimeList<Rec>>>, bareOutsByEndpoint: Map<string, Map<string, TimeList<Rec>>>, learnOnly: boolean): void {
    const rows: { rec: Rec; cands: Cand[] }[] = [];
    const tolSd = this.tolUs / 2;
    for (const rec of ins) {
      const key = rec.service;
      const root = this.rootRate(rec.endpoint);
      const cands: Cand[] = [];
      // "A root, or called by someone whose call is not in the logs": the two gaps are then just chance.
      const background = 2 * Math.log(1 / (2 * this.maxNetUs));
      cands.push({ key: -1 - rec.line, group: -1, score: Math.log(root) + background, target: null });
      const found = this.calleeCandidates(rec, outsByLocal, outsByEndpoint, bareOutsByEndpoint, true);
      for (let k = 0; k < found.size; k++) {
        const out = found.out[k]!;
        if (out.callee !== undefined) continue;
        const n1 = found.n1[k]!;
        const n2 = found.n2[k]!;
        const m1 = this.net1.get(out.service)?.get(key);
        const m2 = this.net2.get(out.service)?.get(key);
        const unsure = this.clocks.known(rec.host) && this.clocks.known(out.host) ? 0 : this.maxSkewUs / 2;
        const sd1 = rootSumSquares(m1 !== undefined && m1.weight >= 5 ? m1.sd(NET_MIN_SD) : NET_SD, unsure, tolSd);
        const sd2 = rootSumSquares(m2 !== undefined && m2.weight >= 5 ? m2.sd(NET_MIN_SD) : NET_SD, unsure, tolSd);
        const mu1 = m1 !== undefined && m1.weight >= 5 ? m1.mean : NET_MEAN;
        const mu2 = m2 !== undefined && m2.weight >= 5 ? m2.mean : NET_MEAN;
        if (Math.abs(n1 - mu1) > 6 * sd1 || Math.abs(n2 - mu2) > 6 * sd2) continue;
        const score = Math.log(1 - root) + logNormalDensity(n1, mu1, sd1) + logNormalDensity(n2, mu2, sd2) + (found.connection[k] === 1 ? CONNECTION_BONUS : 0);
        cands.push({ key: out.line, group: out.line, score, target: out });
      }
      rows.push({ rec, cands });
    }
    for (const group of groupsOf(rows, (row) => row.cands.length, (row, k) => row.cands[k]!.target)) {
      const solved = solveGroup(group.map((g) => g.cands));
      group.forEach((row, i) => {
        const { choice, confidence } = solved[i]!;
        const out = choice.target;
        if (confidence >= LEARN_CONFIDENCE && out !== null) {
          const d = this.clocks.offset(row.rec.host) - this.clocks.offset(out.host);
          this.netModel(this.net1, out.service, row.rec.service).add(row.rec.s - d - out.s);
          this.netModel(this.net2, out.service, row.rec.service).add(out.e - (row.rec.e - d));
        }
        if (confidence >= LEARN_CONFIDENCE) {
          let c = this.roots.get(row.rec.endpoint);
          if (c === undefined) this.roots.set(row.rec.endpoint, (c = [0, 0]));
          c[out === null ? 0 : 1]++;
        }
        if (learnOnly) return;
        row.rec.call = out;
        row.rec.c1 = confidence;
        row.rec.decided = true;
        if (out !== null) out.callee = row.rec;
      });
    }
  }

  /**
   * Step 2: each `out` record to the `in` record (same instance) that was being handled, jointly per
   * group of overlapping requests. Returns the decisions without applying them.
   */
  private callerAssign(outs: readonly Rec[], insAt: Map<string, TimeList<Rec>>, blockEnd: number, withPrior: boolean): CallerRow[] {
    const { rows, groups } = this.callerGroups(outs, insAt, blockEnd, withPrior);
    this.solveCallerGroups(groups);
    return rows;
  }

  /** The caller-side problem of `outs`: each call's possible parents, and the groups to solve jointly. */
  private callerGroups(outs: readonly Rec[], insAt: Map<string, TimeList<Rec>>, blockEnd: number, withPrior: boolean): { rows: CallerRow[]; groups: CallerGroup[] } {
    const tol = this.tolUs;
    const rows: CallerRow[] = [];
    for (const out of outs) {
      const parents: Rec[] = [];
      const ins = insAt.get(out.instance);
      if (ins !== undefined) {
        const items = ins.items;
        for (let k = ins.upperBound(out.s + tol) - 1; k >= ins.head; k--) {
          const p = items[k]!;
          if (p.s < out.s - this.maxDurUs - tol) break;
          if (p.e + tol >= out.e) parents.push(p);
        }
      }
      // Both set by the group's solve (every row is in one); doubles from the start.
      rows.push({ rec: out, parents, parent: null, confidence: DOUBLE_ZERO, certainty: DOUBLE_ZERO });
    }
    const groups: CallerGroup[] = [];
    for (const group of groupsOf(rows, (row) => row.parents.length, (row, k) => row.parents[k]!)) {
      // Rows come in start order (the block's records are), and groups keep it: sorted only if not.
      if (!startOrdered(group)) group.sort((a, b) => byStart(a.rec, b.rec));
      const parents: Rec[] = [];
      for (const row of group) for (const p of row.parents) if (p.slot < 0) {
        p.slot = parents.length;
        parents.push(p);
      }
      for (const p of parents) p.slot = -1;
      groups.push({ rows: group, parents, withPrior, blockEnd });
    }
    return { rows, groups };
  }

  private solveCallerGroups(groups: readonly CallerGroup[]): void {
    for (const g of groups) {
      const parents = g.parents;
      for (let i = 0; i < parents.length; i++) parents[i]!.slot = i;
      const calls: AssignCall[] = g.rows.map((row) => ({ endpoint: row.rec.endpoint, startUs: row.rec.s, endUs: row.rec.e, candidates: row.parents.map((p) => p.slot) }));
      for (const p of parents) p.slot = -1;
      const input: AssignParent[] = parents.map((p) => ({
        key: p.key,
        startUs: p.s,
        endUs: p.e,
        prior: g.withPrior ? (p.kids ?? NO_RECS) : NO_RECS,
        closes: p.e < g.blockEnd,
      }));
      const solved = assignCalls(input, calls, this.structure, this.tolUs);
      for (let i = 0; i < g.rows.length; i++) {
        const row = g.rows[i]!;
        const { parent, confidence, certainty } = solved[i]!;
        row.parent = parent < 0 ? null : g.parents[parent]!;
        row.confidence = confidence;
        row.certainty = certainty;
      }
    }
  }

  private callerSide(outs: readonly Rec[], insAt: Map<string, TimeList<Rec>>, blockEnd: number): void {
    for (const row of this.callerAssign(outs, insAt, blockEnd, true)) {
      const p = row.parent;
      row.rec.parent = p;
      row.rec.c2 = row.confidence;
      row.rec.c2raw = row.certainty;
      row.rec.stage2 = true;
      if (p !== null) (p.kids ??= []).push(row.rec);
      for (const waiting of row.rec.waiting ?? []) this.settle(waiting);
      row.rec.waiting = undefined;
    }
  }

  /**
   * EM on a block while the structure model is young: assign with the current model, refit a fresh
   * model from the requests whose every possible call was placed confidently, repeat.
   */
  private refitStructure(outs: readonly Rec[], insAt: Map<string, TimeList<Rec>>, blockEnd: number): void {
    // The problem is the same in every round (no prior calls): only the model changes.
    const { rows, groups } = this.callerGroups(outs, insAt, blockEnd, false);
    for (let round = 0; round < EM_ROUNDS; round++) {
      this.solveCallerGroups(groups);
      const kids = new Map<Rec, Rec[]>();
      const dirty = new Set<Rec>();
      for (const row of rows) {
        for (const p of row.parents) if (!kids.has(p)) kids.set(p, []);
        if (row.certainty < LEARN_CONFIDENCE) for (const p of row.parents) dirty.add(p);
        else if (row.parent !== null) kids.get(row.parent)!.push(row.rec);
      }
      const fresh = new CallStructure();
      for (const [p, list] of kids) {
        if (dirty.has(p) || p.e >= blockEnd || p.s < this.blockStart! - this.windowUs) continue;
        fresh.learn(p.key, p.s, p.e, list, this.tolUs);
      }
      this.structure = fresh;
    }
  }

  /** Feeds the call-structure model from requests that ended before `until` and whose calls are all known. */
  private tally(recs: readonly Rec[], until: number, learnPass: boolean): void {
    // Sorted by start: a request that starts at or after `until` cannot have ended before it.
    const end = lowerBound(recs, until);
    for (let i = 0; i < end; i++) {
      const p = recs[i]!;
      if (!p.isIn || p.tallied || p.e >= until) continue;
      if (!learnPass) p.tallied = true;
      const kids = p.kids ?? NO_RECS;
      if (!learnPass && unsureCall(kids)) continue;
      // A well-fed model learns from a sample (it only has to follow drift).
      if (!learnPass && this.structure.learnedParents > LEARN_ALL_UNTIL && (p.line & 7) !== 0) continue;
      this.structure.learn(p.key, p.s, p.e, kids, this.tolUs);
    }
  }

  /** An `in` record whose two steps are done gets its final parent and confidence. */
  private settle(rec: Rec): void {
    if (rec.emitted || !rec.decided) return;
    const call = rec.call ?? null;
    if (call !== null && !call.stage2) {
      (call.waiting ??= []).push(rec);
      return;
    }
    rec.finalParent = call === null ? null : (call.parent ?? null);
    rec.conf = call === null ? rec.c1 : rec.c1 * call.c2;
    this.emit(rec);
  }

  private emit(rec: Rec): void {
    if (rec.emitted) return;
    const parent = rec.finalParent ?? null;
    if (parent !== null && !parent.emitted) {
      (parent.waitingKids ??= []).push(rec);
      return;
    }
    rec.emitted = true;
    rec.rootLine = parent === null ? rec.line : parent.rootLine;
    if (parent === null) this.stats.roots++;
    else this.stats.linked++;
    const link: EmittedLink = { record: rec.line, parent: parent?.line ?? null, confidence: rec.conf, root: rec.rootLine };
    if (rec.call != null && parent !== null) link.call = rec.call.line;
    this.sink.link(link, rec.record());
    for (const d of rec.dups ?? []) this.emitDuplicate(rec, d);
    rec.dups = undefined;
    for (const kid of rec.waitingKids ?? []) this.emit(kid);
    rec.waitingKids = undefined;
  }

  private emitDuplicate(original: Rec, record: LogRecord): void {
    const parent = original.finalParent ?? null;
    this.sink.link({ record: record.line, parent: parent?.line ?? null, confidence: original.conf, root: original.rootLine, duplicateOf: original.line }, record);
  }

  private emitCall(out: Rec): void {
    if (out.emittedCall) return;
    out.emittedCall = true;
    const parent = out.parent ?? null;
    const call: EmittedCall = {
      record: out.line,
      parent: parent?.line ?? null,
      callee: out.callee?.line ?? null,
      confidence: out.c2,
      root: parent === null ? null : parent.emitted ? parent.rootLine : parent.line,
    };
    this.sink.call?.(call, out.record());
    for (const d of out.dups ?? []) this.sink.call?.({ ...call, record: d.line, callee: null }, d);
    out.dups = undefined;
  }

  /** Drops records that started before `before`, deciding (as roots) anything still waiting. */
  private prune(before: number): void {
    let cut = 0;
    while (cut < this.ctx.length && this.ctx[cut]!.s < before) cut++;
    if (cut === 0) return;
    const gone = this.ctx.splice(0, cut);
    for (const rec of gone) {
      if (!rec.isIn) continue;
      if (!rec.decided) {
        rec.decided = true;
        rec.call = null;
        rec.c1 = this.rootRate(rec.endpoint);
      }
      if (!rec.emitted) {
        if (rec.call != null && !rec.call.stage2) rec.call.stage2 = true;
        this.settle(rec);
      }
      if (!rec.emitted) {
        // Its parent is still waiting on something: give it up as a root rather than hold it.
        rec.finalParent = null;
        this.emit(rec);
      }
    }
    for (const rec of gone) {
      if (!rec.isIn) this.emitCall(rec);
      this.startTable.remove(rec);
      for (const list of rec.lists ?? []) list.remove(rec);
      // Release references so the window's memory is really returned.
      rec.lists = undefined;
      rec.kids = undefined;
      rec.waiting = undefined;
      rec.pruned = true;
    }
    // Dropped `in` records are all emitted: nothing reads their numbers again.
    for (const rec of gone) if (rec.isIn) rec.release();
    let kept = 0;
    const unreleased = this.unreleased;
    for (const rec of unreleased) if (!releasable(rec)) unreleased[kept++] = rec;
    else rec.release();
    for (const rec of gone) if (!rec.isIn) {
      if (releasable(rec)) rec.release();
      else unreleased[kept++] = rec;
    }
    unreleased.length = kept;
  }

  /** Rows in use (held records and dropped calls still read): follows the window; 0 after `finish`. */
  get heldRows(): number {
    return this.cols.live;
  }
}

/**
 * Whether a dropped `out` record's numbers can no longer be read: its callee (which reads the
 * call's confidence when it settles) is emitted, and its parent (which reads its calls' times and
 * certainties as priors and when tallied) is dropped too.
 */
function releasable(out: Rec): boolean {
  const callee = out.callee;
  const parent = out.parent;
  return (callee === undefined || callee.emitted) && (parent === undefined || parent === null || parent.pruned);
}
