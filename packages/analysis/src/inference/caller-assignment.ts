/**
 * The caller side of inference: which request (an `in` record) made each outgoing call (`out`) on
 * one instance, decided jointly for a group of overlapping requests. Calls are taken in start order
 * and every partial assignment is scored by the learned call structure (call-structure.ts): the gap
 * from each call's anchor (the request's previous finished call, or its start), one more call to an
 * endpoint, and, for requests that end within the group, the tail and the final counts. A beam of
 * the best partial assignments is kept (not a greedy choice per call), and each call's confidence is
 * its posterior over the final beam.
 */
import { CallStructure, START, type CallList } from './call-structure.js';
import { DOUBLE_ZERO } from './gaussian-stats.js';

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

interface State {
  score: number;
  prev: State | null;
  choice: number;
  lists: (CallList | null)[];
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
    const sorted = Array.from(order.subarray(0, n)).sort((a, b) => score[b]! - score[a]! || a - b);
    order.set(sorted);
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

export function assignCalls(parents: readonly AssignParent[], calls: readonly AssignCall[], structure: CallStructure, tolUs: number, beam = DEFAULT_BEAM): Assigned[] {
  const orphan = CallStructure.orphanScore();
  // Each request's model, looked up once for the whole search.
  const models = parents.map((p) => structure.model(p.key));
  const initial: (CallList | null)[] = parents.map((p) => {
    let list: CallList | null = null;
    for (const c of p.prior) list = { endpoint: c.endpoint, endUs: c.e, next: list, step: 0, more: DOUBLE_ZERO, gap: DOUBLE_ZERO };
    return list;
  });
  let states: State[] = [{ score: DOUBLE_ZERO, prev: null, choice: -1, lists: initial }];
  // Per request, the price memo of an empty list (a list node carries its own). Stamps of earlier
  // searches are older steps, so the shared columns need no clearing.
  if (parents.length > emptyStep.length) {
    emptyStep = new Float64Array(2 * parents.length);
    emptyMore = new Float64Array(2 * parents.length);
    emptyGap = new Float64Array(2 * parents.length);
  }
  for (const call of calls) {
    const stepId = ++steps;
    const most = states.length * (1 + call.candidates.length);
    if (most > expScore.length) {
      const size = Math.max(most, 2 * expScore.length);
      expScore = new Float64Array(size);
      expFrom = new Int32Array(size);
      expChoice = new Int32Array(size);
      order = new Int32Array(size);
    }
    let m = 0;
    for (let si = 0; si < states.length; si++) {
      const st = states[si]!;
      expScore[m] = st.score + orphan;
      expFrom[m] = si;
      expChoice[m++] = -1;
      const candidates = call.candidates;
      for (let ci = 0; ci < candidates.length; ci++) {
        const pi = candidates[ci]!;
        // The price of this call for a request depends only on the calls it already has (its list):
        // states sharing that list share the price, computed once per step.
        const list = st.lists[pi] ?? null;
        let more: number;
        let gap: number;
        if (list !== null ? list.step === stepId : emptyStep[pi] === stepId) {
          more = list !== null ? list.more : emptyMore[pi]!;
          gap = list !== null ? list.gap : emptyGap[pi]!;
        } else {
          const p = parents[pi]!;
          const model = models[pi];
          let anchor = p.startUs;
          let prev = START;
          let count = 0;
          for (let c = list; c !== null; c = c.next) {
            if (c.endpoint === call.endpoint) count++;
            if (c.endUs <= call.startUs + tolUs && c.endUs >= anchor) {
              anchor = c.endUs;
              prev = c.endpoint;
            }
          }
          more = structure.more(model, call.endpoint, count);
          gap = structure.gap(model, prev, call.endpoint, call.startUs - anchor);
          if (list !== null) {
            list.step = stepId;
            list.more = more;
            list.gap = gap;
          } else {
            emptyStep[pi] = stepId;
            emptyMore[pi] = more;
            emptyGap[pi] = gap;
          }
        }
        expScore[m] = st.score + more + gap;
        expFrom[m] = si;
        expChoice[m++] = pi;
      }
    }
    sortByScore(order, expScore, m);
    // States e^12 times less likely than the best cannot change a posterior that matters.
    const floor = expScore[order[0]!]! - PRUNE_GAP;
    let keep = Math.min(beam, m);
    while (keep > 1 && expScore[order[keep - 1]!]! < floor) keep--;
    const kept: State[] = new Array(keep);
    for (let k = 0; k < keep; k++) {
      const at = order[k]!;
      const from = states[expFrom[at]!]!;
      const pi = expChoice[at]!;
      let lists = from.lists;
      if (pi >= 0) {
        lists = lists.slice();
        lists[pi] = { endpoint: call.endpoint, endUs: call.endUs, next: from.lists[pi] ?? null, step: 0, more: DOUBLE_ZERO, gap: DOUBLE_ZERO };
      }
      kept[k] = { score: expScore[at]!, prev: from, choice: pi, lists };
    }
    states = kept;
  }
  // The requests that end here: their tails and call counts.
  if (states.length > finals.length) finals = new Float64Array(2 * states.length);
  let best = 0;
  for (let si = 0; si < states.length; si++) {
    const st = states[si]!;
    let score = st.score;
    for (let pi = 0; pi < parents.length; pi++) {
      const p = parents[pi]!;
      if (!p.closes) continue;
      const list = st.lists[pi] ?? null;
      let lastEnd = p.startUs;
      let last = START;
      for (let c = list; c !== null; c = c.next) {
        if (c.endUs >= lastEnd) {
          lastEnd = c.endUs;
          last = c.endpoint;
        }
      }
      score += structure.stop(models[pi], list) + structure.tail(models[pi], last, p.endUs - lastEnd);
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
  let at: State | null = states[best]!;
  for (let i = n - 1; i >= 0; i--) {
    bestChoices[i] = at!.choice;
    at = at!.prev;
  }
  const bestScore = finals[best]!;
  agree.fill(0, 0, n);
  agreeRaw.fill(0, 0, n);
  let total = 0;
  let totalRaw = 0;
  for (let si = 0; si < states.length; si++) {
    const w = Math.exp((finals[si]! - bestScore) / POSTERIOR_TEMPERATURE);
    const wRaw = Math.exp(finals[si]! - bestScore);
    total += w;
    totalRaw += wRaw;
    // Walk the state's choices back (no array per state).
    let st: State | null = states[si]!;
    for (let i = n - 1; i >= 0; i--) {
      if (st!.choice === bestChoices[i]) {
        agree[i] += w;
        agreeRaw[i] += wRaw;
      }
      st = st!.prev;
    }
  }
  const result: Assigned[] = [];
  for (let i = 0; i < n; i++) result.push({ parent: bestChoices[i]!, confidence: agree[i]! / total, certainty: agreeRaw[i]! / totalRaw });
  return result;
}
