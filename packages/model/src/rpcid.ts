/**
 * Position ids (rpcid, DESIGN §2): root `0`; the n-th call made while handling call `X` is `X.n`,
 * counting from 1. Positions recorded by other systems may also hold a `0` segment (Alibaba's call
 * graphs have `0.1.1.2.7.1.21.0` and `0.0`): they are accepted and ordered before `.1`, but Linktrace
 * never makes one. Every function here accepts untrusted input and never throws: an invalid rpcid
 * yields false / undefined / an empty list.
 */

export const ROOT_RPCID = '0';
/** Longest rpcid accepted, in characters. */
export const RPCID_MAX_LENGTH = 256;
/** Deepest rpcid accepted (the root has depth 0). */
export const RPCID_MAX_DEPTH = 64;

/** Dot-separated whole numbers from the root `0`, without leading zeros. */
const RPCID_RE = /^0(\.(?:0|[1-9][0-9]*))*$/;
const DOT = 46;
/** A segment must be a safe integer (at most 2^53 - 1), so that it can be counted with exactly. */
const MAX_SEGMENT = String(Number.MAX_SAFE_INTEGER);

/**
 * Why `rpcid` is not a position id, or undefined when it is one: a string of the shape
 * `^0(\.(0|[1-9][0-9]*))*$`, at most 256 characters, depth 64, each segment at most 2^53 - 1.
 * The reason is meant for a person (an import's bad-line report, a refused span).
 */
export function rpcidProblem(rpcid: unknown): string | undefined {
  if (typeof rpcid !== 'string') return 'not a string';
  if (rpcid.length > RPCID_MAX_LENGTH) return `longer than ${RPCID_MAX_LENGTH} characters`;
  if (!RPCID_RE.test(rpcid)) return 'not a position id like 0.1.2';
  let dots = 0;
  let segmentStart = 0;
  for (let i = 0; i <= rpcid.length; i++) {
    if (i < rpcid.length && rpcid.charCodeAt(i) !== DOT) continue;
    // Longer segments than 2^53 - 1 has digits are too large; as long, they compare as text.
    const digits = i - segmentStart;
    if (digits > MAX_SEGMENT.length || (digits === MAX_SEGMENT.length && rpcid.slice(segmentStart, i) > MAX_SEGMENT)) {
      return `segment ${rpcid.slice(segmentStart, i)} is larger than 2^53 - 1`;
    }
    if (i < rpcid.length) dots++;
    segmentStart = i + 1;
  }
  if (dots > RPCID_MAX_DEPTH) return `deeper than ${RPCID_MAX_DEPTH} levels`;
  return undefined;
}

/** True when `rpcidProblem` finds nothing wrong (see there for the rules). */
export function isValidRpcid(rpcid: unknown): rpcid is string {
  return rpcidProblem(rpcid) === undefined;
}

function dotCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === DOT) n++;
  return n;
}

/**
 * The position of the `index`-th call (from 1) made under `parent`. Undefined when `parent` is not
 * valid, `index` is not a positive safe integer, or the child would exceed the length/depth bounds.
 */
export function rpcidChild(parent: string, index: number): string | undefined {
  if (!Number.isSafeInteger(index) || index < 1 || !isValidRpcid(parent)) return undefined;
  const child = `${parent}.${index}`;
  if (child.length > RPCID_MAX_LENGTH || dotCount(parent) >= RPCID_MAX_DEPTH) return undefined;
  return child;
}

/**
 * Positions for `branches` parallel branches started under `parent`: branch i takes child index
 * `firstIndex + i`, and the calls a branch makes become children of its position. The caller's
 * counter then continues at `firstIndex + branches`. Empty when any argument is invalid.
 */
export function rpcidFork(parent: string, firstIndex: number, branches: number): string[] {
  if (!Number.isSafeInteger(branches) || branches < 0 || branches > 1_000_000) return [];
  if (!Number.isSafeInteger(firstIndex + branches)) return [];
  const out: string[] = [];
  for (let i = 0; i < branches; i++) {
    const child = rpcidChild(parent, firstIndex + i);
    if (child === undefined) return [];
    out.push(child);
  }
  return out;
}

/** The caller's position; undefined for the root and for invalid input. */
export function rpcidParent(rpcid: string): string | undefined {
  if (!isValidRpcid(rpcid) || rpcid.length === 1) return undefined;
  return rpcid.slice(0, rpcid.lastIndexOf('.'));
}

/** Number of hops below the root (root 0); undefined for invalid input. */
export function rpcidDepth(rpcid: string): number | undefined {
  return isValidRpcid(rpcid) ? dotCount(rpcid) : undefined;
}

/**
 * Total order for sorting: segment by segment numerically (`0.0` < `0.2` < `0.10`), a parent before
 * its children. Invalid rpcids sort after every valid one, among themselves by plain string order.
 * Segments are compared by digit count then digits, so numbers of any size compare exactly.
 */
export function compareRpcid(a: string, b: string): number {
  const va = isValidRpcid(a);
  const vb = isValidRpcid(b);
  if (!va || !vb) {
    if (va) return -1;
    if (vb) return 1;
    const sa = String(a);
    const sb = String(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  let i = 0;
  let j = 0;
  for (;;) {
    if (i >= a.length || j >= b.length) return i >= a.length ? (j >= b.length ? 0 : -1) : 1;
    let ei = i;
    while (ei < a.length && a.charCodeAt(ei) !== DOT) ei++;
    let ej = j;
    while (ej < b.length && b.charCodeAt(ej) !== DOT) ej++;
    if (ei - i !== ej - j) return ei - i - (ej - j) < 0 ? -1 : 1;
    for (let k = 0; k < ei - i; k++) {
      const d = a.charCodeAt(i + k) - b.charCodeAt(j + k);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    i = ei + 1;
    j = ej + 1;
  }
}

/**
 * Redeliveries (docs/model.md, "Positions of redeliveries"): the first delivery of a message shares
 * its producer's position `P` (as a server shares its client's), and the calls made while handling
 * it are `P.1`, `P.2`, …; the `n`-th delivery (n ≥ 2) takes `P.0.n`. Counting never makes a `0`
 * segment, so a redelivery and what it calls can never take a position another delivery's calls
 * take, and the position follows from the producer's position and the delivery count alone (both
 * carried by the message), whatever process the redelivery lands in.
 */
export const RPCID_DELIVERY_SEGMENT = '0';

/**
 * The position of the `delivery`-th delivery (from 2) of a message produced at `producer`.
 * Undefined when `delivery` is not an integer ≥ 2 or the position would exceed the length/depth
 * bounds; `producer` must have the shape of a position (its `0` segments are accepted, so the
 * redelivery of a message sent by a redelivery has a position too).
 */
export function rpcidDelivery(producer: string, delivery: number): string | undefined {
  if (!Number.isSafeInteger(delivery) || delivery < 2 || typeof producer !== 'string' || !POSITION_SHAPE_RE.test(producer)) return undefined;
  const position = `${producer}.${RPCID_DELIVERY_SEGMENT}.${delivery}`;
  if (position.length > RPCID_MAX_LENGTH || dotCount(producer) + 2 > RPCID_MAX_DEPTH) return undefined;
  return position;
}

/** For a redelivery position `P.0.n` (n ≥ 2): the producer position `P` and the delivery `n`; otherwise undefined. */
export function rpcidDeliveryOf(rpcid: string): { producer: string; delivery: number } | undefined {
  if (typeof rpcid !== 'string' || rpcid.length > RPCID_MAX_LENGTH || !POSITION_SHAPE_RE.test(rpcid)) return undefined;
  const match = DELIVERY_TAIL_RE.exec(rpcid);
  if (match === null) return undefined;
  const delivery = Number(match[2]);
  return Number.isSafeInteger(delivery) && delivery >= 2 ? { producer: match[1]!, delivery } : undefined;
}

/** A position's shape with `0` segments allowed (redelivery positions have one). */
const POSITION_SHAPE_RE = /^0(\.(0|[1-9][0-9]*))*$/;
const DELIVERY_TAIL_RE = /^(.*)\.0\.([1-9][0-9]*)$/;
