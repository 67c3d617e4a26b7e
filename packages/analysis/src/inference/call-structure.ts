/**
 * What each endpoint does, learned from the confidently inferred requests: which endpoints it calls,
 * how many times (a call made in some requests only is optional), and when. "When" is the gap from
 * the call's anchor — the end of the request's latest call that had finished (the previous step of a
 * sequence), or the request's start — per (previous call, this call); and the tail from the last
 * call's end to the request's end. Gaps are log-scale Gaussians. Inference scores a joint
 * assignment of calls to requests with it (caller-assignment.ts).
 */
import { GaussianStats, logNormalDensity, robustLogDensity } from './gaussian-stats.js';
import { byStart } from './time-list.js';

/** Gaps are modelled as log(gap + GAP_SHIFT_US): positive, heavy-tailed, and 0 allowed (ms-resolution logs). */
const GAP_SHIFT_US = 100;
/** Before anything is learned: a gap of a few ms, very uncertain. */
const BROAD_MEAN = Math.log(3000);
const BROAD_SD = 2.5;
const MIN_SD = 0.2;
/** Observations before a learned Gaussian is trusted. */
const MIN_WEIGHT = 5;
/** Requests tallied before an endpoint's call counts are trusted. */
const MIN_PARENTS = 5;

/** more() and stop() for a count no request ever reached: log((0 + 0.5) / (0 + 1)). */
const NEVER_SEEN = Math.log(0.5 / 1);

/** more() by count n < h.length: log((requests with > n calls + ½) / (requests with ≥ n calls + 1)). */
function moreLogs(h: readonly number[]): number[] {
  const out: number[] = [];
  for (let n = 0; n < h.length; n++) {
    let atLeast = 0;
    for (let k = n; k < h.length; k++) atLeast += h[k]!;
    const above = atLeast - h[n]!;
    out.push(Math.log((above + 0.5) / (atLeast + 1)));
  }
  return out;
}

/** stop() of one child by count n < h.length: log((requests with n calls + ½) / (requests with ≥ n calls + 1)). */
function stopLogs(h: readonly number[]): number[] {
  const out: number[] = [];
  for (let n = 0; n < h.length; n++) {
    let atLeast = 0;
    for (let k = n; k < h.length; k++) atLeast += h[k]!;
    out.push(Math.log((h[n]! + 0.5) / (atLeast + 1)));
  }
  return out;
}

/** The anchor name for "no call finished yet": the request's start. */
export const START = '^';

/** A call as learning takes it: the inferrer passes its held records themselves (one class: no copies, one shape). */
export interface CallTiming {
  readonly endpoint: string;
  /** Start, µs. */
  readonly s: number;
  /** End, µs. */
  readonly e: number;
}

/** What is learned about one endpoint (`service endpoint`); scoring takes it as a handle, looked up once per request. */
export interface EndpointModel {
  parents: number;
  /** child endpoint → histogram of calls per request (index = count). */
  counts: Map<string, number[]>;
  /** The same, as two lists in the order the children were first seen: iterated without an entry per child. */
  children: string[];
  histograms: number[][];
  /**
   * Per child, more()'s and stop()'s log-probabilities by count, filled on first use and dropped
   * when a request is learned: the search asks for them once per state, the counts change once per
   * learned request.
   */
  moreLogs: (number[] | undefined)[];
  stopLogs: (number[] | undefined)[];
  /** prev → child → gap model (nested, so scoring builds no key string). */
  gaps: Map<string, Map<string, GaussianStats>>;
  /** child → gap model after any previous call. */
  anyGaps: Map<string, GaussianStats>;
  /** last child (or START) → tail model. */
  tails: Map<string, GaussianStats>;
}

/**
 * Requests' call lists as the caller-side search (caller-assignment.ts) holds them: persistent
 * lists, newest first, whose nodes live in reusable columns, so that extending a list allocates
 * nothing. A list is the index of its newest node; −1 is the empty list. `clear()` starts a new
 * search (the columns only grow).
 */
export class CallNodes {
  readonly endpoint: string[] = [];
  endUs = new Float64Array(1024);
  next = new Int32Array(1024);
  /** Memo of the search: the step the price below is for, and that price's two terms. */
  step = new Float64Array(1024);
  more = new Float64Array(1024);
  gap = new Float64Array(1024);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  /** A new list: `endpoint`'s call, ending at `endUs`, in front of the list `next`. */
  add(endpoint: string, endUs: number, next: number): number {
    if (this.size === this.endUs.length) this.grow();
    const n = this.size++;
    this.endpoint[n] = endpoint;
    this.endUs[n] = endUs;
    this.next[n] = next;
    this.step[n] = 0;
    this.more[n] = 0;
    this.gap[n] = 0;
    return n;
  }

  private grow(): void {
    const grown = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(2 * a.length);
      b.set(a);
      return b;
    };
    this.endUs = grown(this.endUs);
    this.next = grown(this.next);
    this.step = grown(this.step);
    this.more = grown(this.more);
    this.gap = grown(this.gap);
  }
}

function gapFeature(us: number): number {
  return Math.log(Math.max(0, us) + GAP_SHIFT_US);
}

/** The anchor of each call of one request (calls sorted by start): the latest end before it, or the start. */
export function anchorsOf(parentStart: number, calls: readonly CallTiming[], tolUs: number): { anchor: number; prev: string }[] {
  const out: { anchor: number; prev: string }[] = [];
  for (let i = 0; i < calls.length; i++) {
    let anchor = parentStart;
    let prev = START;
    for (let k = 0; k < i; k++) {
      const c = calls[k]!;
      if (c.e <= calls[i]!.s + tolUs && c.e >= anchor) {
        anchor = c.e;
        prev = c.endpoint;
      }
    }
    out.push({ anchor, prev });
  }
  return out;
}

export class CallStructure {
  private readonly endpoints = new Map<string, EndpointModel>();
  private parentsLearned = 0;

  private endpoint(key: string): EndpointModel {
    let m = this.endpoints.get(key);
    if (m === undefined) this.endpoints.set(key, (m = { parents: 0, counts: new Map(), children: [], histograms: [], moreLogs: [], stopLogs: [], gaps: new Map(), anyGaps: new Map(), tails: new Map() }));
    return m;
  }

  private stats(map: Map<string, GaussianStats>, key: string): GaussianStats {
    let s = map.get(key);
    if (s === undefined) map.set(key, (s = new GaussianStats()));
    return s;
  }

  /** Learns from one request whose calls are all known (any order). */
  learn(parentKey: string, parentStart: number, parentEnd: number, calls: readonly CallTiming[], tolUs: number): void {
    const m = this.endpoint(parentKey);
    m.parents++;
    this.parentsLearned++;
    const sorted = [...calls].sort(byStart);
    const anchors = anchorsOf(parentStart, sorted, tolUs);
    const seen = new Map<string, number>();
    let lastEnd = parentStart;
    let last = START;
    sorted.forEach((c, i) => {
      seen.set(c.endpoint, (seen.get(c.endpoint) ?? 0) + 1);
      const { anchor, prev } = anchors[i]!;
      const g = gapFeature(c.s - anchor);
      let byChild = m.gaps.get(prev);
      if (byChild === undefined) m.gaps.set(prev, (byChild = new Map()));
      this.stats(byChild, c.endpoint).add(g);
      this.stats(m.anyGaps, c.endpoint).add(g);
      if (c.e >= lastEnd) {
        lastEnd = c.e;
        last = c.endpoint;
      }
    });
    this.stats(m.tails, last).add(gapFeature(parentEnd - lastEnd));
    // Children called this time (new ones join the histograms in the order first called), then the others, 0 times.
    for (const [child, n] of seen) {
      let h = m.counts.get(child);
      if (h === undefined) {
        m.counts.set(child, (h = [m.parents - 1]));
        m.children.push(child);
        m.histograms.push(h);
        m.moreLogs.push(undefined);
        m.stopLogs.push(undefined);
      }
      while (h.length <= n) h.push(0);
      h[n]!++;
    }
    for (let i = 0; i < m.children.length; i++) {
      if (!seen.has(m.children[i]!)) m.histograms[i]![0]!++;
      m.moreLogs[i] = undefined;
      m.stopLogs[i] = undefined;
    }
  }

  /** The model of `parentKey`, or undefined when nothing was learned about it: the handle scoring takes. */
  model(parentKey: string): EndpointModel | undefined {
    return this.endpoints.get(parentKey);
  }

  /** log P(count ≥ n+1 | count ≥ n) of calls to `child`: the price of one more call. */
  more(m: EndpointModel | undefined, child: string, n: number): number {
    if (m === undefined || m.parents < MIN_PARENTS) return 0;
    const h = m.counts.get(child);
    if (h === undefined) return Math.log(0.5 / (m.parents + 1));
    if (n >= h.length) return NEVER_SEEN;
    const at = m.histograms.indexOf(h);
    const logs = (m.moreLogs[at] ??= moreLogs(h));
    return logs[n]!;
  }

  /** log P(count = n | count ≥ n) for every child the endpoint calls, given the calls made (counted on the list `made` of `nodes`). */
  stop(m: EndpointModel | undefined, nodes: CallNodes, made: number): number {
    if (m === undefined || m.parents < MIN_PARENTS) return 0;
    let sum = 0;
    for (let i = 0; i < m.children.length; i++) {
      const child = m.children[i]!;
      const h = m.histograms[i]!;
      let n = 0;
      for (let c = made; c >= 0; c = nodes.next[c]!) if (nodes.endpoint[c] === child) n++;
      sum += n >= h.length ? NEVER_SEEN : (m.stopLogs[i] ??= stopLogs(h))[n]!;
    }
    return sum;
  }

  /** log-likelihood of a call starting `gapUs` after its anchor (the end of `prev`, or the start). */
  gap(m: EndpointModel | undefined, prev: string, child: string, gapUs: number): number {
    const x = gapFeature(gapUs);
    let s = m?.gaps.get(prev)?.get(child);
    if (s === undefined || s.weight < MIN_WEIGHT) s = m?.anyGaps.get(child);
    if (s === undefined || s.weight < MIN_WEIGHT) return logNormalDensity(x, BROAD_MEAN, BROAD_SD);
    return robustLogDensity(x, s.mean, s.sd(MIN_SD), BROAD_MEAN, BROAD_SD);
  }

  /** log-likelihood of the request ending `tailUs` after its last call (`last`, or START when it made none). */
  tail(m: EndpointModel | undefined, last: string, tailUs: number): number {
    const x = gapFeature(tailUs);
    const s = m?.tails.get(last);
    if (s === undefined || s.weight < MIN_WEIGHT) return logNormalDensity(x, BROAD_MEAN, BROAD_SD);
    return robustLogDensity(x, s.mean, s.sd(MIN_SD), BROAD_MEAN, BROAD_SD);
  }

  /** Requests tallied so far (all endpoints). */
  get learnedParents(): number {
    return this.parentsLearned;
  }

  /** The score of an outgoing call with no parent request at all (background work, or its request was not logged). */
  static orphanScore(): number {
    return Math.log(0.001) + logNormalDensity(0, 0, 3);
  }
}
