/**
 * The federated walker (DESIGN §6, §8): starts at the agent of the instance that began the trace
 * (its `ip:port` is in our trace ids), reads that agent's spans, follows every call and message
 * that left them (next-hop pointers) to the agents the directory names, in parallel rounds with a
 * timeout per request, until the chain ends or a limit is reached. Like a DNS resolver following
 * referrals, it never asks an agent twice, so a pointer cycle ends the walk instead of looping.
 */
import { decodeTraceId, type Span } from '@linktrace/model';
import type { AgentAnswer } from './agent-client.js';
import type { AgentDirectory } from './agent-directory.js';
import { buildHops, type PendingPointer } from './hop-graph.js';
import type { AgentAsked, WalkedTrace, WalkLimit, WalkSummary } from './hop-types.js';
import { addressKey, pointersOf, pointerText, type Pointer } from './peer-address.js';

export interface WalkOptions {
  directory: AgentDirectory;
  /** Reads one agent's spans of the trace (`fetchAgentTrace` with its timeout per hop). */
  fetch: (agent: string, traceId: string, signal: AbortSignal) => Promise<AgentAnswer>;
  /** Most agents asked in one walk. */
  maxAgents?: number;
  /** Most spans kept in one walk. */
  maxSpans?: number;
  /** The whole walk, ms. */
  deadlineMs?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Monotonic ms. */
  now?: () => number;
}

export const WALK_DEFAULTS = { maxAgents: 1_000, maxSpans: 200_000, deadlineMs: 10_000, concurrency: 16 } as const;
const MAX_UNTRACKED = 100;

/** Runs `work` over `items` with at most `limit` at once, results in order. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return out;
}

export async function walkTrace(traceId: string, options: WalkOptions): Promise<WalkedTrace<Span>> {
  const { directory } = options;
  const maxAgents = options.maxAgents ?? WALK_DEFAULTS.maxAgents;
  const maxSpans = options.maxSpans ?? WALK_DEFAULTS.maxSpans;
  const deadlineMs = options.deadlineMs ?? WALK_DEFAULTS.deadlineMs;
  const concurrency = options.concurrency ?? WALK_DEFAULTS.concurrency;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const walkAbort = new AbortController();
  const deadline = setTimeout(() => walkAbort.abort(), deadlineMs);
  deadline.unref?.();

  const spans = new Map<string, Span>();
  const agentOfSpan = new Map<string, string>();
  /** Span ids with at least one child (or a consumer linking to them) among the spans read. */
  const answered = new Set<string>();
  const pending: PendingPointer[] = [];
  const asked = new Map<string, AgentAsked>();
  const untracked = new Set<string>();
  let truncated: WalkLimit | undefined;
  let rounds = 0;
  let bytes = 0;

  const decoded = decodeTraceId(traceId);
  const origin = decoded === undefined ? undefined : addressKey(decoded.ipv4, decoded.port);
  const entryAgents = origin === undefined ? [] : directory.agentsOfOrigin(origin);
  let mode: WalkSummary['mode'] = entryAgents.length > 0 ? 'entry' : 'broadcast';

  const addSpans = (agent: string, list: readonly Span[]): void => {
    for (const s of list) {
      if (spans.has(s.spanId)) continue;
      if (spans.size >= maxSpans) {
        truncated ??= 'max-spans';
        return;
      }
      spans.set(s.spanId, s);
      agentOfSpan.set(s.spanId, agent);
      if (s.parentSpanId !== undefined) answered.add(s.parentSpanId);
      for (const l of s.links) if (l.traceId === traceId) answered.add(l.spanId);
      const pointers = pointersOf(s);
      if (pointers.length > 0) pending.push({ span: s, pointers });
    }
  };

  const agentsOf = (p: Pointer): readonly string[] => (p.kind === 'address' ? directory.agentsOfAddress(p.key) : directory.agentsOfQueue(p.key));

  const ask = async (agents: readonly string[]): Promise<void> => {
    rounds++;
    const answers = await pool(agents, concurrency, async (agent) => {
      asked.set(agent, { agent, status: 'ok', spans: 0, bytes: 0, ms: 0, alive: directory.isAlive(agent) }); // claimed: never asked twice
      let answer: AgentAnswer;
      try {
        answer = await options.fetch(agent, traceId, walkAbort.signal);
      } catch (error) {
        answer = { status: 'unreachable', reason: `failed: ${(error as Error).message}`, bytes: 0, ms: 0 };
      }
      return { agent, answer };
    });
    for (const { agent, answer } of answers) {
      bytes += answer.bytes;
      const entry: AgentAsked = { agent, status: answer.status, spans: 0, bytes: answer.bytes, ms: Math.round(answer.ms * 1000) / 1000, alive: directory.isAlive(agent) };
      if (answer.status === 'ok') {
        entry.spans = answer.spans.length;
        if (answer.notes.length > 0) entry.notes = answer.notes;
        addSpans(agent, answer.spans);
      } else entry.reason = answer.reason;
      asked.set(agent, entry);
    }
  };

  /**
   * Agents named by pointers still unanswered, not asked yet; unknown peers are noted. Each pointer
   * is looked at once: every agent it names is asked in the next round, so later rounds only look
   * at the pointers that arrived since (a 10 000-hop chain stays linear).
   */
  let settledUpTo = 0;
  const nextAgents = (): string[] => {
    const next = new Set<string>();
    for (; settledUpTo < pending.length; settledUpTo++) {
      const p = pending[settledUpTo]!;
      if (answered.has(p.span.spanId)) continue;
      for (const pointer of p.pointers) {
        const agents = agentsOf(pointer);
        if (agents.length === 0 && untracked.size < MAX_UNTRACKED) untracked.add(pointerText(pointer));
        for (const a of agents) if (!asked.has(a)) next.add(a);
      }
    }
    return [...next];
  };

  try {
    let toAsk: string[] = mode === 'entry' ? [...entryAgents] : directory.urls();
    while (toAsk.length > 0) {
      if (walkAbort.signal.aborted) {
        truncated ??= 'deadline';
        break;
      }
      if (asked.size + toAsk.length > maxAgents) {
        truncated ??= 'max-agents';
        toAsk = toAsk.slice(0, Math.max(0, maxAgents - asked.size));
        if (toAsk.length === 0) break;
      }
      await ask(toAsk);
      if (truncated === 'max-spans') break;
      toAsk = nextAgents();
      // The entry agent gone or empty-handed (or a directory entry pointing at the wrong agent):
      // the rest of the trace may still be somewhere, so every other agent is asked once.
      if (rounds === 1 && mode === 'entry' && spans.size === 0) {
        mode = 'broadcast';
        toAsk = directory.urls().filter((a) => !asked.has(a));
      }
    }
    if (walkAbort.signal.aborted) truncated ??= 'deadline';
  } finally {
    clearTimeout(deadline);
  }

  const all = [...spans.values()].sort((a, b) => a.startUs - b.startUs);
  const { hops, lastHealthyHop } = buildHops({
    spans: all,
    agentOfSpan,
    pending: pending.filter((p) => !answered.has(p.span.spanId)),
    directory,
    asked,
    entry: origin === undefined ? undefined : { origin, agents: entryAgents },
  });
  const walk: WalkSummary = {
    mode,
    agents: [...asked.values()],
    bytes,
    ms: Math.round((now() - started) * 1000) / 1000,
    rounds,
    untracked: [...untracked],
  };
  if (origin !== undefined) walk.origin = origin;
  if (truncated !== undefined) walk.truncated = truncated;
  return { traceId, spans: all, hops, lastHealthyHop, walk };
}
