/**
 * The position tree of a trace (DESIGN §2): one node per rpcid, holding the spans recorded at that
 * position (a call's client and server halves share it). Positions that the present ones imply but
 * no span holds are nodes too, marked missing, so a trace with lost spans still lays out and the gap
 * shows (`0.1.1`, `0.1.3`, no `0.1.2`).
 */
import { ATTR, compareRpcid, isValidRpcid, missingRpcids, rpcidParent, MISSING_RPCIDS_DEFAULT_LIMIT } from '@linktrace/model';
import type { Span } from '@linktrace/model';

export interface RpcidNode {
  rpcid: string;
  /** Spans at this position; empty when the position is missing. */
  spans: Span[];
  missing: boolean;
  /** Sorted with `compareRpcid`. */
  children: RpcidNode[];
}

export interface RpcidTree {
  /** Position `0`; absent when no span has a valid rpcid. */
  root?: RpcidNode;
  /** Implied but absent positions, sorted (at most `limit`). */
  missing: string[];
  /** True when more positions were missing than `limit`: only the first ones are listed and laid out. */
  truncated: boolean;
  /** Spans with no rpcid at all. */
  withoutRpcid: Span[];
  /** Spans whose rpcid is not a valid position. */
  invalidRpcid: Span[];
}

/** A span's position: the native field, else the `linktrace.rpcid` attribute. */
export function spanRpcid(span: Span): string | undefined {
  if (span.rpcid !== undefined) return span.rpcid;
  const attr = span.attributes[ATTR.rpcid];
  return typeof attr === 'string' ? attr : undefined;
}

export function buildRpcidTree(spans: readonly Span[], limit = MISSING_RPCIDS_DEFAULT_LIMIT): RpcidTree {
  const nodes = new Map<string, RpcidNode>();
  const withoutRpcid: Span[] = [];
  const invalidRpcid: Span[] = [];
  const node = (rpcid: string, missing: boolean): RpcidNode => {
    let n = nodes.get(rpcid);
    if (n === undefined) nodes.set(rpcid, (n = { rpcid, spans: [], missing, children: [] }));
    return n;
  };
  for (const s of spans) {
    const rpcid = spanRpcid(s);
    if (rpcid === undefined) withoutRpcid.push(s);
    else if (!isValidRpcid(rpcid)) invalidRpcid.push(s);
    else node(rpcid, false).spans.push(s);
  }
  // One more than the limit tells "exactly limit" apart from "cut".
  const implied = missingRpcids(nodes.keys(), limit + 1);
  const truncated = implied.length > limit;
  if (truncated) implied.length = limit;
  for (const rpcid of implied) node(rpcid, true);
  // Ancestors are always laid out, even past the limit, so every present span hangs from the root.
  for (const rpcid of [...nodes.keys()]) {
    for (let p = rpcidParent(rpcid); p !== undefined && !nodes.has(p); p = rpcidParent(p)) node(p, true);
  }
  for (const n of nodes.values()) {
    const parent = rpcidParent(n.rpcid);
    if (parent !== undefined) nodes.get(parent)!.children.push(n);
  }
  for (const n of nodes.values()) n.children.sort((a, b) => compareRpcid(a.rpcid, b.rpcid));
  const tree: RpcidTree = { missing: implied, truncated, withoutRpcid, invalidRpcid };
  const root = nodes.get('0');
  if (root !== undefined) tree.root = root;
  return tree;
}
