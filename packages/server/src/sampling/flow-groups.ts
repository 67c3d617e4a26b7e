/**
 * Business flows for flow-keeping: traces that share a flow key belong to one flow, and tail
 * sampling keeps or drops a flow's traces together. A trace's keys are its own id, the ids of the
 * traces its spans link to (a consumer's link to the producer span of another trace: a queue hop),
 * and the business records its stage spans handle (`linktrace.entity.type` + `.key`).
 *
 * Flows are a union-find over keys: a trace joins every group one of its keys is in. Keys live for
 * the flow window after they were last seen (a flow is "the traces connected within a window", not
 * forever: an entity such as shop 42 is updated by unrelated flows all day), and at most `maxKeys`
 * are held (the oldest go first; counted).
 */
import { ATTR } from '@linktrace/model';
import type { Span } from '@linktrace/model';

/** Most keys one trace contributes (its own id first): a batch job touching 10 000 records is one flow by its first keys. */
export const MAX_KEYS_PER_TRACE = 32;

export interface FlowGroup {
  /** Set when merged into another group (union-find). */
  parent: FlowGroup | undefined;
  /**
   * A trace of the flow was kept: the others checked until then (µs, the keep plus the flow window)
   * are kept too. Bounded, so that a record touched all day by unrelated traces does not keep every
   * one of them once one was kept.
   */
  keptUntilUs: number;
  /** Traces of the flow waiting for their drop decision. */
  pending: Set<string>;
  /** Traces of the flow already dropped since it was last kept (a keep after them comes too late for them). */
  dropped: number;
}

export type TraceDecision = 'kept' | 'dropped';

interface KeyEntry {
  group: FlowGroup;
  lastUs: number;
  /** When it was last put in the expiry queue. */
  queuedUs: number;
  /** For a trace's own key: what was decided for the trace. */
  decision: TraceDecision | undefined;
}

export const ownKey = (traceId: string): string => `t:${traceId}`;

/** The flow keys of a trace (its own id first), at most MAX_KEYS_PER_TRACE. */
export function flowKeys(traceId: string, spans: readonly Span[]): string[] {
  const keys = new Set<string>([ownKey(traceId)]);
  for (const s of spans) {
    if (keys.size >= MAX_KEYS_PER_TRACE) break;
    for (const l of s.links ?? []) if (typeof l.traceId === 'string' && l.traceId !== traceId) keys.add(ownKey(l.traceId));
    const key = s.attributes?.[ATTR.entityKey];
    if (typeof key === 'string' || typeof key === 'number') {
      const type = s.attributes[ATTR.entityType];
      keys.add(`e:${typeof type === 'string' ? type : ''}\u0000${String(key)}`);
    }
  }
  return [...keys].slice(0, MAX_KEYS_PER_TRACE);
}

export function rootOf(group: FlowGroup): FlowGroup {
  let root = group;
  while (root.parent !== undefined) root = root.parent;
  // Path compression: the next lookup is one step.
  let g = group;
  while (g.parent !== undefined && g.parent !== root) {
    const next = g.parent;
    g.parent = root;
    g = next;
  }
  return root;
}

export class FlowGroups {
  private readonly keys = new Map<string, KeyEntry>();
  /**
   * Keys in the order they were (re)queued, with that time: expiry and eviction walk it from the
   * front. A key is not moved inside `keys` when seen again (deleting and re-adding one hot key in
   * a large Map made V8 rehash it: 100 µs a join when every trace shared one entity); it is queued
   * again at most every `requeueUs`, so a key is let go at most that late. Stale items (the key was
   * queued again since) are skipped.
   */
  private queue: { key: string; atUs: number }[] = [];
  private head = 0;
  private readonly requeueUs: number;
  /** Keys let go before their window ended because `maxKeys` were held. */
  evicted = 0;

  constructor(
    private readonly windowUs: number,
    private readonly maxKeys: number,
  ) {
    this.requeueUs = Math.max(1, Math.floor(windowUs / 8));
  }

  get size(): number {
    return this.keys.size;
  }

  /** Items in the expiry queue (bounded: at most ~9 per key held). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** The decision noted for a trace whose own key is still held. */
  decisionOf(traceId: string): TraceDecision | undefined {
    return this.keys.get(ownKey(traceId))?.decision;
  }

  note(traceId: string, decision: TraceDecision | undefined): void {
    const e = this.keys.get(ownKey(traceId));
    if (e !== undefined) e.decision = decision;
  }

  /** Puts the keys in one group (merging the groups they were in), seen now; returns its root. */
  join(keys: readonly string[], nowUs: number): FlowGroup {
    let root: FlowGroup | undefined;
    for (const k of keys) {
      const e = this.keys.get(k);
      if (e === undefined) continue;
      const r = rootOf(e.group);
      root = root === undefined ? r : merge(root, r);
    }
    root ??= { parent: undefined, keptUntilUs: 0, pending: new Set(), dropped: 0 };
    for (const k of keys) {
      const e = this.keys.get(k);
      if (e === undefined) {
        this.keys.set(k, { group: root, lastUs: nowUs, queuedUs: nowUs, decision: undefined });
        this.queue.push({ key: k, atUs: nowUs });
        continue;
      }
      e.group = root;
      e.lastUs = nowUs;
      if (nowUs - e.queuedUs >= this.requeueUs) {
        e.queuedUs = nowUs;
        this.queue.push({ key: k, atUs: nowUs });
      }
    }
    while (this.keys.size > this.maxKeys) {
      const item = this.queue[this.head++];
      if (item === undefined) break;
      if (this.keys.get(item.key)?.queuedUs !== item.atUs) continue;
      this.keys.delete(item.key);
      this.evicted++;
    }
    this.compact();
    return root;
  }

  /** Lets go of the keys not seen for the window. */
  expire(nowUs: number): void {
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      if (item.atUs + this.windowUs >= nowUs) break;
      this.head++;
      const e = this.keys.get(item.key);
      if (e === undefined || e.queuedUs !== item.atUs) continue;
      if (e.lastUs + this.windowUs < nowUs) this.keys.delete(item.key);
      else {
        // Seen since, but not queued again (within `requeueUs`): queued again now.
        e.queuedUs = e.lastUs;
        this.queue.push({ key: item.key, atUs: e.lastUs });
      }
    }
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** Union of two roots: the one with fewer pending traces goes under the other. */
function merge(a: FlowGroup, b: FlowGroup): FlowGroup {
  if (a === b) return a;
  const [big, small] = a.pending.size >= b.pending.size ? [a, b] : [b, a];
  small.parent = big;
  big.keptUntilUs = Math.max(big.keptUntilUs, small.keptUntilUs);
  for (const id of small.pending) big.pending.add(id);
  small.pending.clear();
  big.dropped += small.dropped;
  small.dropped = 0;
  return big;
}
