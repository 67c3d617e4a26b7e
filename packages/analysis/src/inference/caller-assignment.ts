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

export interface AssignParent {
  /** `service endpoint` of the request. */
  key: string;
  startUs: number;
  endUs: number;
  /** Calls already given to it earlier. */
  prior: readonly { endpoint: string; endUs: number }[];
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

export function assignCalls(parents: readonly AssignParent[], calls: readonly AssignCall[], structure: CallStructure, tolUs: number, beam = DEFAULT_BEAM): Assigned[] {
  const orphan = CallStructure.orphanScore();
  // Each request's model, looked up once for the whole search.
  const models = parents.map((p) => structure.model(p.key));
  const initial: (CallList | null)[] = parents.map((p) => {
    let list: CallList | null = null;
    for (const c of p.prior) list = { endpoint: c.endpoint, endUs: c.endUs, next: list };
    return list;
  });
  let states: State[] = [{ score: 0, prev: null, choice: -1, lists: initial }];
  for (const call of calls) {
    const next: State[] = [];
    for (const st of states) {
      next.push({ score: st.score + orphan, prev: st, choice: -1, lists: st.lists });
      for (const pi of call.candidates) {
        const p = parents[pi]!;
        const model = models[pi];
        let anchor = p.startUs;
        let prev = START;
        let count = 0;
        for (let c = st.lists[pi] ?? null; c !== null; c = c.next) {
          if (c.endpoint === call.endpoint) count++;
          if (c.endUs <= call.startUs + tolUs && c.endUs >= anchor) {
            anchor = c.endUs;
            prev = c.endpoint;
          }
        }
        const score = st.score + structure.more(model, call.endpoint, count) + structure.gap(model, prev, call.endpoint, call.startUs - anchor);
        const lists = st.lists.slice();
        lists[pi] = { endpoint: call.endpoint, endUs: call.endUs, next: st.lists[pi] ?? null };
        next.push({ score, prev: st, choice: pi, lists });
      }
    }
    next.sort((a, b) => b.score - a.score);
    // States e^12 times less likely than the best cannot change a posterior that matters.
    const floor = next[0]!.score - PRUNE_GAP;
    let keep = Math.min(beam, next.length);
    while (keep > 1 && next[keep - 1]!.score < floor) keep--;
    states = keep < next.length ? next.slice(0, keep) : next;
  }
  // The requests that end here: their tails and call counts.
  const finals = new Float64Array(states.length);
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
  const bestChoices = new Int32Array(n);
  let at: State | null = states[best]!;
  for (let i = n - 1; i >= 0; i--) {
    bestChoices[i] = at!.choice;
    at = at!.prev;
  }
  const bestScore = finals[best]!;
  const agree = new Float64Array(n);
  const agreeRaw = new Float64Array(n);
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
