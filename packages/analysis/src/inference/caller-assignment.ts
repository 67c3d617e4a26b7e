/**
 * The caller side of inference: which request (an `in` record) made each outgoing call (`out`) on
 * one instance, decided jointly for a group of overlapping requests. Calls are taken in start order
 * and every partial assignment is scored by the learned call structure (call-structure.ts): the gap
 * from each call's anchor (the request's previous finished call, or its start), one more call to an
 * endpoint, and, for requests that end within the group, the tail and the final counts. A beam of
 * the best partial assignments is kept (not a greedy choice per call), and each call's confidence is
 * its posterior over the final beam.
 */
import { CallNodes, CallStructure, START } from './call-structure.js';

export interface AssignParent {
  /** `service endpoint` of the request. */
  key: string;
  startUs: number;
  endUs: number;
  /** Calls already given to it earlier. */
  prior: readonly { readonly endpoint: string; /** End, µs. */ readonly e: number }[];
  /** Whether all its calls are in this group (it ends within the decided range): then its tail and counts are scored. */
  closes: boolean;
}

export interface AssignCall {
  endpoint: string;
  startUs: number;
  endUs: number;
  /** Indices into the parents that enclose it. */
  candidates: readonly number[];
}

export interface Assigned {
  /** Parent index, or −1 for none. */
  parent: number;
  /** The calibrated (tempered) posterior: what is reported. */
  confidence: number;
  /** The beam's own posterior: what learning thresholds use, so calibration never changes what is learned. */
  certainty: number;
}

export const DEFAULT_BEAM = 200;
const PRUNE_GAP = 12;
/**
 * Tempers the beam's posterior, which misses the alternatives it pruned: a temperature fitted on
 * held-out generator logs (seed 7; the benchmark scores seed 1), see docs/inference.md.
 */
const POSTERIOR_TEMPERATURE = 2;

/**
 * Fills `order[0..n)` with 0..n−1 sorted by `score` descending, equal scores in index order (a
 * stable sort, as the beam's ranking has always been). Insertion sort for the short lists of most
 * steps: no allocation.
 */
export function sortByScore(order: Int32Array, score: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) order[i] = i;
  if (n > 48) {
    mergeByScore(order, score, n);
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = order[i]!;
    const v = score[x]!;
    let k = i - 1;
    while (k >= 0 && score[order[k]!]! < v) {
      order[k + 1] = order[k]!;
      k--;
    }
    order[k + 1] = x;
  }
}

let mergeScratch = new Int32Array(256);

/** Bottom-up merge sort of `order[0..n)` by score descending; a right element passes a left one only when strictly better (stable). */
function mergeByScore(order: Int32Array, score: Float64Array, n: number): void {
  if (mergeScratch.length < n) mergeScratch = new Int32Array(2 * n);
  let from: Int32Array = order;
  let to: Int32Array = mergeScratch;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) to[k++] = score[from[j]!]! > score[from[i]!]! ? from[j++]! : from[i++]!;
      while (i < mid) to[k++] = from[i++]!;
      while (j < hi) to[k++] = from[j++]!;
    }
    const t = from;
    from = to;
    to = t;
  }
  if (from !== order) order.set(from.subarray(0, n));
}

// The expansions of one search step, as flat columns (a state is only built for those the beam
// keeps). Shared by every search: assignCalls is synchronous and never re-entered.
let expScore = new Float64Array(256);
let expFrom = new Int32Array(256);
let expChoice = new Int32Array(256);
let order = new Int32Array(256);
/** Search steps taken so far (all searches): the memo stamp, never reused. */
let steps = 0;
// Per request and per call of one search, also shared (grown as needed): no typed array per search.
let emptyStep = new Float64Array(64);
let emptyMore = new Float64Array(64);
let emptyGap = new Float64Array(64);
let finals = new Float64Array(256);
let bestChoices = new Int32Array(64);
let agree = new Float64Array(64);
let agreeRaw = new Float64Array(64);
// The beam's states, also in shared columns: a step allocates nothing. The states of the current
// step and of the next are two halves of each column (which half: `half`); a state's call lists
// are `parents` node indices (CallNodes) at `state * parents`; its score; and its place in the
// history (`histPrev`/`histChoice`: the state it grew from and the parent it gave the call), which
// is what the posterior walks back.
const nodes = new CallNodes();
let stateLists = new Int32Array(2 * 1024);
let stateScore = new Float64Array(2 * 256);
let stateHist = new Int32Array(2 * 256);
let histPrev = new Int32Array(1024);
let histChoice = new Int32Array(1024);

export function assignCalls(parents: readonly AssignParent[], calls: readonly AssignCall[], structure: CallStructure, tolUs: number, beam = DEFAULT_BEAM): Assigned[] {
  const orphan = CallStructure.orphanScore();
  const np = parents.length;
  // Each request's model, looked up once for the whole search.
  const models = parents.map((p) => structure.model(p.key));
  // Room for the most states a step can keep (a beam of them, or one when there is no call) in each half.
  const most = Math.max(1, Math.min(beam, maxKept(calls)));
  if (stateScore.length < 2 * most) {
    stateScore = new Float64Array(4 * most);
    stateHist = new Int32Array(4 * most);
  }
  const half = stateScore.length / 2;
  if (stateLists.length < 2 * half * np) stateLists = new Int32Array(2 * half * np);
  const listsHalf = stateLists.length / 2;
  // History: the initial state, and one entry per kept state per call.
  const histMost = 1 + most * calls.length;
  if (histPrev.length < histMost) {
    histPrev = new Int32Array(2 * histMost);
    histChoice = new Int32Array(2 * histMost);
  }
  nodes.clear();
  let cur = 0; // which half holds the current step's states
  for (let pi = 0; pi < np; pi++) {
    let list = -1;
    for (const c of parents[pi]!.prior) list = nodes.add(c.endpoint, c.e, list);
    stateLists[pi] = list;
  }
  stateScore[0] = 0;
  stateHist[0] = 0;
  histPrev[0] = -1;
  histChoice[0] = -1;
  let histSize = 1;
  let count = 1;
  // Per request, the price memo of an empty list (a list node carries its own). Stamps of earlier
  // searches are older steps, so the shared columns need no clearing.
  if (np > emptyStep.length) {
    emptyStep = new Float64Array(2 * np);
    emptyMore = new Float64Array(2 * np);
    emptyGap = new Float64Array(2 * np);
  }
  for (const call of calls) {
    const stepId = ++steps;
    const most = count * (1 + call.candidates.length);
    if (most > expScore.length) {
      const size = Math.max(most, 2 * expScore.length);
      expScore = new Float64Array(size);
      expFrom = new Int32Array(size);
      expChoice = new Int32Array(size);
      order = new Int32Array(size);
    }
    const curState = cur * half;
    const curLists = cur * listsHalf;
    let m = 0;
    for (let si = 0; si < count; si++) {
      const score = stateScore[curState + si]!;
      expScore[m] = score + orphan;
      expFrom[m] = si;
      expChoice[m++] = -1;
      const candidates = call.candidates;
      const lists = curLists + si * np;
      for (let ci = 0; ci < candidates.length; ci++) {
        const pi = candidates[ci]!;
        // The price of this call for a request depends only on the calls it already has (its list):
        // states sharing that list share the price, computed once per step.
        const list = stateLists[lists + pi]!;
        let more: number;
        let gap: number;
        if (list >= 0 ? nodes.step[list] === stepId : emptyStep[pi] === stepId) {
          more = list >= 0 ? nodes.more[list]! : emptyMore[pi]!;
          gap = list >= 0 ? nodes.gap[list]! : emptyGap[pi]!;
        } else {
          const p = parents[pi]!;
          const model = models[pi];
          let anchor = p.startUs;
          let prev = START;
          let made = 0;
          for (let c = list; c >= 0; c = nodes.next[c]!) {
            const endUs = nodes.endUs[c]!;
            if (nodes.endpoint[c] === call.endpoint) made++;
            if (endUs <= call.startUs + tolUs && endUs >= anchor) {
              anchor = endUs;
              prev = nodes.endpoint[c]!;
            }
          }
          more = structure.more(model, call.endpoint, made);
          gap = structure.gap(model, prev, call.endpoint, call.startUs - anchor);
          if (list >= 0) {
            nodes.step[list] = stepId;
            nodes.more[list] = more;
            nodes.gap[list] = gap;
          } else {
            emptyStep[pi] = stepId;
            emptyMore[pi] = more;
            emptyGap[pi] = gap;
          }
        }
        expScore[m] = score + more + gap;
        expFrom[m] = si;
        expChoice[m++] = pi;
      }
    }
    sortByScore(order, expScore, m);
    // States e^12 times less likely than the best cannot change a posterior that matters.
    const floor = expScore[order[0]!]! - PRUNE_GAP;
    let keep = Math.min(beam, m);
    while (keep > 1 && expScore[order[keep - 1]!]! < floor) keep--;
    const next = 1 - cur;
    const nextState = next * half;
    const nextLists = next * listsHalf;
    for (let k = 0; k < keep; k++) {
      const at = order[k]!;
      const from = expFrom[at]!;
      const pi = expChoice[at]!;
      const fromLists = curLists + from * np;
      const lists = nextLists + k * np;
      stateLists.copyWithin(lists, fromLists, fromLists + np);
      if (pi >= 0) stateLists[lists + pi] = nodes.add(call.endpoint, call.endUs, stateLists[fromLists + pi]!);
      stateScore[nextState + k] = expScore[at]!;
      histPrev[histSize] = stateHist[curState + from]!;
      histChoice[histSize] = pi;
      stateHist[nextState + k] = histSize++;
    }
    cur = next;
    count = keep;
  }
  // The requests that end here: their tails and call counts.
  if (count > finals.length) finals = new Float64Array(2 * count);
  const curState = cur * half;
  const curLists = cur * listsHalf;
  let best = 0;
  for (let si = 0; si < count; si++) {
    let score = stateScore[curState + si]!;
    for (let pi = 0; pi < np; pi++) {
      const p = parents[pi]!;
      if (!p.closes) continue;
      const list = stateLists[curLists + si * np + pi]!;
      let lastEnd = p.startUs;
      let last = START;
      for (let c = list; c >= 0; c = nodes.next[c]!) {
        if (nodes.endUs[c]! >= lastEnd) {
          lastEnd = nodes.endUs[c]!;
          last = nodes.endpoint[c]!;
        }
      }
      score += structure.stop(models[pi], nodes, list) + structure.tail(models[pi], last, p.endUs - lastEnd);
    }
    finals[si] = score;
    if (score > finals[best]!) best = si;
  }
  const n = calls.length;
  if (n > bestChoices.length) {
    bestChoices = new Int32Array(2 * n);
    agree = new Float64Array(2 * n);
    agreeRaw = new Float64Array(2 * n);
  }
  let at = stateHist[curState + best]!;
  for (let i = n - 1; i >= 0; i--) {
    bestChoices[i] = histChoice[at]!;
    at = histPrev[at]!;
  }
  const bestScore = finals[best]!;
  agree.fill(0, 0, n);
  agreeRaw.fill(0, 0, n);
  let total = 0;
  let totalRaw = 0;
  for (let si = 0; si < count; si++) {
    const w = Math.exp((finals[si]! - bestScore) / POSTERIOR_TEMPERATURE);
    const wRaw = Math.exp(finals[si]! - bestScore);
    total += w;
    totalRaw += wRaw;
    // Walk the state's choices back through the history.
    let h = stateHist[curState + si]!;
    for (let i = n - 1; i >= 0; i--) {
      if (histChoice[h] === bestChoices[i]) {
        agree[i] += w;
        agreeRaw[i] += wRaw;
      }
      h = histPrev[h]!;
    }
  }
  const result: Assigned[] = new Array(n);
  for (let i = 0; i < n; i++) result[i] = { parent: bestChoices[i]!, confidence: agree[i]! / total, certainty: agreeRaw[i]! / totalRaw };
  return result;
}

/** An upper bound on the states a step can keep: the expansions of the largest step, were every state kept. */
function maxKept(calls: readonly AssignCall[]): number {
  let states = 1;
  for (const call of calls) {
    states *= 1 + call.candidates.length;
    if (states >= 1 << 20) return states;
  }
  return states;
}
