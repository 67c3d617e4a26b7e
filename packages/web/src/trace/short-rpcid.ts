/** The rpcid column's text: a long position by its tail (the depth shows in the indent). */

/** Characters the rpcid column shows; a longer position keeps its last segments (the depth shows in the indent). */
const RPCID_CHARS = 10;

/** `0.1.2.3.4.5.6` → `…4.5.6`: the tail, which tells siblings apart; the whole one is in the title. */
export function shortRpcid(rpcid: string, max = RPCID_CHARS): string {
  if (rpcid.length <= max) return rpcid;
  const parts = rpcid.split('.');
  let tail = parts.pop()!;
  if (tail.length + 1 > max) return `…${tail.slice(-(max - 1))}`;
  while (parts.length > 0 && tail.length + parts[parts.length - 1]!.length + 2 <= max) tail = `${parts.pop()!}.${tail}`;
  return `…${tail}`;
}
