/**
 * The rpcid positions (DESIGN §2) a trace's spans imply but do not hold. Two kinds:
 * - lost ancestors: a position with recorded descendants but no span of its own (`0.2` when `0.2.1`
 *   is there). Each is one placeholder, its descendants hang under it;
 * - sibling gaps: under one caller, child numbers skipped between the first and the highest one
 *   present (`0.1.1`, `0.1.4` → `0.1.2`–`0.1.3`). A gap is one contiguous range, however long: a
 *   single position `0.3.112512741` is one range of 112,512,740 positions, not that many entries.
 *
 * Children are counted from 1 (DESIGN §2), but call graphs in the wild (Alibaba's) also number from
 * 0: under a caller where a child numbered 0 is present, numbering starts at 0; elsewhere at 1, and
 * 0 is never reported missing. A redelivery's position `P.0.n` with no span at `P.0` belongs to `P`. Segments are compared as decimal numbers of any size (BigInt), so a
 * 250-digit segment is exact. Work is linear in the positions present, never in a gap's length.
 */
import { compareRpcid, isValidRpcid, rpcidDeliveryOf } from '@linktrace/model';

export interface SiblingGap {
  /** The caller's position. */
  parent: string;
  /** First and last missing child number, decimal. */
  first: string;
  last: string;
  /** How many positions the range holds (a float for ranges beyond 2^53). */
  count: number;
}

export interface PositionGaps {
  /** Positions with recorded descendants but no span, sorted with `compareRpcid`. */
  lostAncestors: string[];
  /** Skipped child numbers, one entry per contiguous range, sorted by their first position. */
  ranges: SiblingGap[];
}

/** The missing runs among sorted, distinct child numbers: [first, last] pairs. */
export function siblingGaps(sortedChildren: readonly bigint[]): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  if (sortedChildren.length === 0) return out;
  let expected = sortedChildren[0] === 0n ? 0n : 1n;
  for (const n of sortedChildren) {
    if (n > expected) out.push([expected, n - 1n]);
    if (n >= expected) expected = n + 1n;
  }
  return out;
}

/** The caller's position of a valid, non-root rpcid (validated once, by the caller). */
function parentOf(rpcid: string): string | undefined {
  const dot = rpcid.lastIndexOf('.');
  return dot < 0 ? undefined : rpcid.slice(0, dot);
}

/** Gaps among `present` positions; invalid rpcids are ignored. */
export function findPositionGaps(present: Iterable<string>): PositionGaps {
  const have = new Set<string>();
  for (const p of present) if (isValidRpcid(p)) have.add(p);
  const implied = new Set<string>(have);
  const children = new Map<string, bigint[]>();
  for (const p of have) {
    let child = p;
    for (let parent = parentOf(child); parent !== undefined; parent = parentOf(child)) {
      if (!have.has(parent)) {
        // A redelivery `P.0.n` hangs under its producer `P` (docs/model.md): with no span at `P.0`
        // it implies neither a lost `P.0` nor the deliveries `P.0.1`…`P.0.(n-1)` (delivery 1 is `P`).
        const delivery = rpcidDeliveryOf(child);
        if (delivery !== undefined) {
          if (implied.has(delivery.producer)) break;
          implied.add(delivery.producer);
          child = delivery.producer;
          continue;
        }
      }
      const list = children.get(parent);
      const n = BigInt(child.slice(parent.length + 1));
      if (list === undefined) children.set(parent, [n]);
      else list.push(n);
      // An ancestor already known has had its own ancestors walked (and counted once).
      if (implied.has(parent)) break;
      implied.add(parent);
      child = parent;
    }
  }
  const lostAncestors: string[] = [];
  for (const p of implied) if (!have.has(p)) lostAncestors.push(p);
  lostAncestors.sort(compareRpcid);
  const found: { at: string; gap: SiblingGap }[] = [];
  for (const [parent, list] of children) {
    const sorted = list.length === 1 ? list : [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [first, last] of siblingGaps(sorted)) {
      const gap = { parent, first: first.toString(), last: last.toString(), count: Number(last - first + 1n) };
      found.push({ at: `${parent}.${gap.first}`, gap });
    }
  }
  found.sort((a, b) => compareRpcid(a.at, b.at));
  return { lostAncestors, ranges: found.map((f) => f.gap) };
}
