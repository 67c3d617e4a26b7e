/**
 * The walker's answer (DESIGN §8): the hops of a trace in walk order, the last healthy one, and how
 * the walk went (which agents were asked, bytes moved, whether a limit cut it short).
 */
export type HopStatus = 'ok' | 'unreachable' | 'no-spans';

export interface Hop {
  /** Position in `hops`. */
  index: number;
  service: string;
  /** The instance (`host:port` or the SDK's instance id); for a missing hop, the address called. */
  instance?: string;
  /** Base URL of the agent that holds (or should hold) its spans; null when none is known. */
  agent: string | null;
  status: HopStatus;
  /** How many spans of the trace this hop has. */
  spans: number;
  /** The hop whose call or message led here; null for the entry hop and hops reached no other way. */
  from: number | null;
  /** Hops from the entry hop. */
  depth: number;
  /** What led here: the address called (`127.0.0.1:3002`) or the queue (`queue:orders`). */
  via?: string;
  /** Why the hop is not ok, in words (the agent's error, or what it answered). */
  reason?: string;
}

export interface AgentAsked {
  agent: string;
  status: 'ok' | 'unreachable';
  /** Spans of the trace it gave. */
  spans: number;
  bytes: number;
  ms: number;
  /** Heartbeats still arriving when it was asked. */
  alive: boolean;
  reason?: string;
  notes?: string[];
}

export type WalkLimit = 'max-agents' | 'max-spans' | 'deadline';

export interface WalkSummary {
  /** `entry`: from the agent of the address in the trace id; `broadcast`: every agent was asked (foreign id, or no entry agent). */
  mode: 'entry' | 'broadcast';
  /** The `ip:port` decoded from the trace id; absent for ids not made by Linktrace. */
  origin?: string;
  agents: AgentAsked[];
  /** Answer bytes read from agents. */
  bytes: number;
  ms: number;
  /** Rounds of parallel requests (one per hop depth reached through the directory). */
  rounds: number;
  /** The limit that ended the walk early; absent when the chain ended. */
  truncated?: WalkLimit;
  /** Addresses and queues called whose agent the directory does not know (services that are not traced), at most 100. */
  untracked: string[];
}

export interface WalkedTrace<S> {
  traceId: string;
  spans: S[];
  hops: Hop[];
  /** The hop before the first hop that is not ok; with none broken, the last hop of the chain; null when the entry hop is broken. */
  lastHealthyHop: Hop | null;
  walk: WalkSummary;
}
