/**
 * The hops of a walked trace: spans grouped by the agent, service and instance that recorded them;
 * a hop leads to another where a span's parent (or the producer a consumer links to) is in the
 * other hop; a call or message with nothing below it becomes a hop of its own, `unreachable` when
 * its agent did not answer, `no-spans` when it answered without them. Hops are listed breadth-first
 * from the entry hop, so the first broken one is the one nearest the start of the chain.
 */
import type { Span } from '@linktrace/model';
import type { AgentDirectory } from './agent-directory.js';
import type { AgentAsked, Hop } from './hop-types.js';
import { pointersOf, pointerText, type Pointer } from './peer-address.js';

export interface PendingPointer {
  span: Span;
  pointers: Pointer[];
}

export interface HopInput {
  /** By start time. */
  spans: readonly Span[];
  agentOfSpan: ReadonlyMap<string, string>;
  /** Calls and messages with nothing found below them. */
  pending: readonly PendingPointer[];
  directory: AgentDirectory;
  asked: ReadonlyMap<string, AgentAsked>;
  /** Where a Linktrace trace id says the trace began, and the agents the directory gave for it. */
  entry?: { origin: string; agents: readonly string[] };
}

interface Node {
  hop: Omit<Hop, 'index' | 'from' | 'depth'>;
  firstUs: number;
  /** Hops reached from this one, in the order their first span started. */
  next: Node[];
  upstream?: Node;
  index: number;
  depth: number;
}

function hopKey(agent: string, span: Span): string {
  return `${agent}\u0000${span.service}\u0000${span.instance ?? ''}`;
}

/** What became of the agents a pointer names: a broken hop, or undefined when no asked agent is known for it. */
function brokenHop(pointer: Pointer, input: HopInput): Node['hop'] | undefined {
  const agents = pointer.kind === 'address' ? input.directory.agentsOfAddress(pointer.key) : input.directory.agentsOfQueue(pointer.key);
  const answers = agents.map((a) => input.asked.get(a)).filter((a): a is AgentAsked => a !== undefined);
  if (answers.length === 0) return undefined;
  const via = pointerText(pointer);
  const ok = answers.find((a) => a.status === 'ok');
  const service = (pointer.kind === 'address' ? input.directory.serviceOf(pointer.key) : undefined) ?? via;
  const base = { service, ...(pointer.kind === 'address' ? { instance: pointer.key } : {}), spans: 0, via };
  if (ok !== undefined) {
    return { ...base, agent: ok.agent, status: 'no-spans', reason: `${ok.agent} answered without spans of ${via} for this trace` };
  }
  const first = answers[0]!;
  return { ...base, agent: first.agent, status: 'unreachable', reason: `${first.agent}: ${first.reason ?? 'no answer'}${first.alive ? '' : ' (no heartbeat)'}` };
}

export function buildHops(input: HopInput): { hops: Hop[]; lastHealthyHop: Hop | null } {
  const nodes = new Map<string, Node>();
  const nodeOfSpan = new Map<string, Node>();
  for (const s of input.spans) {
    const agent = input.agentOfSpan.get(s.spanId) ?? '';
    const key = hopKey(agent, s);
    let node = nodes.get(key);
    if (node === undefined) {
      const hop: Node['hop'] = { service: s.service, agent: agent === '' ? null : agent, status: 'ok', spans: 0 };
      if (s.instance !== undefined) hop.instance = s.instance;
      nodes.set(key, (node = { hop, firstUs: s.startUs, next: [], index: -1, depth: 0 }));
    }
    node.hop.spans++;
    nodeOfSpan.set(s.spanId, node);
  }
  const spanById = new Map(input.spans.map((s) => [s.spanId, s]));
  // Edges: a span whose parent (or linked producer) is in another hop.
  for (const s of input.spans) {
    const node = nodeOfSpan.get(s.spanId)!;
    if (node.upstream !== undefined) continue;
    const parents = [s.parentSpanId, ...s.links.map((l) => l.spanId)];
    for (const p of parents) {
      const up = p === undefined ? undefined : nodeOfSpan.get(p);
      if (up === undefined || up === node) continue;
      node.upstream = up;
      up.next.push(node);
      const call = pointersOf(spanById.get(p!)!)[0];
      if (call !== undefined) node.hop.via = pointerText(call);
      break;
    }
  }
  // Broken hops: one per address or queue called, hung under the first hop that called it.
  const broken = new Map<string, Node>();
  for (const p of input.pending) {
    const caller = nodeOfSpan.get(p.span.spanId);
    if (caller === undefined) continue;
    for (const pointer of p.pointers) {
      const text = pointerText(pointer);
      if (broken.has(text)) break;
      const hop = brokenHop(pointer, input);
      if (hop === undefined) continue;
      const node: Node = { hop, firstUs: p.span.startUs, next: [], upstream: caller, index: -1, depth: 0 };
      broken.set(text, node);
      caller.next.push(node);
      break;
    }
  }
  // The entry hop: the root span's, else the earliest span's whose parent is missing.
  let entry: Node | undefined;
  const root = input.spans.find((s) => s.parentSpanId === undefined) ?? input.spans.find((s) => !spanById.has(s.parentSpanId ?? ''));
  if (root !== undefined) entry = nodeOfSpan.get(root.spanId);
  const order: Node[] = [];
  const entryAgentFailed = input.entry !== undefined && input.entry.agents.length > 0 && input.entry.agents.every((a) => input.asked.get(a)?.status !== 'ok' || input.asked.get(a)?.spans === 0);
  const rootFound = input.spans.some((s) => s.parentSpanId === undefined);
  if (input.entry !== undefined && entryAgentFailed && !rootFound) {
    // Where the trace began is gone (or holds nothing): that is the first broken hop.
    const agent = input.entry.agents[0]!;
    const a = input.asked.get(agent);
    const status = a?.status === 'ok' ? 'no-spans' : 'unreachable';
    const reason = a?.status === 'ok' ? `${agent} answered without spans of this trace` : `${agent}: ${a?.reason ?? 'not asked'}${a?.alive === false ? ' (no heartbeat)' : ''}`;
    const service = input.directory.serviceOf(input.entry.origin) ?? input.directory.soleServiceOf(agent) ?? input.entry.origin;
    order.push({ hop: { service, instance: input.entry.origin, agent, status, spans: 0, via: input.entry.origin, reason }, firstUs: 0, next: [], index: 0, depth: 0 });
  }
  const visit = (start: Node, from: Node | undefined): void => {
    start.depth = from === undefined ? 0 : from.depth + 1;
    start.index = order.length;
    order.push(start);
    // Breadth-first, iteratively: a 10 000-hop chain must not blow the stack.
    for (let i = start.index; i < order.length; i++) {
      const n = order[i]!;
      n.next.sort((a, b) => a.firstUs - b.firstUs);
      for (const m of n.next) {
        if (m.index >= 0) continue;
        m.depth = n.depth + 1;
        m.index = order.length;
        order.push(m);
      }
    }
  };
  if (entry !== undefined) visit(entry, undefined);
  // Hops reached no other way (their caller's spans are missing), by start.
  const rest = [...nodes.values(), ...broken.values()].filter((n) => n.index < 0).sort((a, b) => a.firstUs - b.firstUs);
  for (const n of rest) if (n.index < 0) visit(n, undefined);
  const hops: Hop[] = order.map((n, index) => {
    const from = n.upstream !== undefined && n.upstream.index >= 0 && n.upstream.index < index ? n.upstream.index : null;
    return { index, ...n.hop, from, depth: from === null ? 0 : n.depth };
  });
  return { hops, lastHealthyHop: lastHealthy(hops) };
}

function lastHealthy(hops: readonly Hop[]): Hop | null {
  const broken = hops.find((h) => h.status !== 'ok');
  if (broken !== undefined) return broken.from === null ? null : hops[broken.from]!;
  let last: Hop | null = null;
  for (const h of hops) if (last === null || h.depth >= last.depth) last = h;
  return last;
}
