/**
 * The gateway's agent directory (DESIGN §8): which agent holds the spans of an instance address, of
 * a queue's consumers, of the traces that start at an `ip:port`. Filled by the agents' heartbeats;
 * an agent whose heartbeats stop is kept (the walker still tries it, and names it when it does not
 * answer) but shown as not alive. The clock is passed in.
 */
import type { AgentInfo } from './agent-info.js';
import { wildcardOf } from './peer-address.js';

export interface DirectoryEntry {
  info: AgentInfo;
  /** When its last heartbeat arrived, ms. */
  lastSeenMs: number;
}

export interface AgentStatus extends AgentInfo {
  lastSeenMs: number;
  alive: boolean;
}

/** Most agents the directory holds (a heartbeat from one more is refused). */
export const DEFAULT_MAX_AGENTS = 20_000;
/** Missed heartbeats after which an agent is called dead. */
export const MISSED_HEARTBEATS = 3;

export class TooManyAgentsError extends Error {
  constructor(readonly max: number) {
    super(`the directory holds ${max} agents already`);
    this.name = 'TooManyAgentsError';
  }
}

/** key -> agent URLs, in registration order. */
class Index {
  private readonly map = new Map<string, Set<string>>();

  add(key: string, agent: string): void {
    let set = this.map.get(key);
    if (set === undefined) this.map.set(key, (set = new Set()));
    set.add(agent);
  }

  remove(key: string, agent: string): void {
    const set = this.map.get(key);
    if (set === undefined) return;
    set.delete(agent);
    if (set.size === 0) this.map.delete(key);
  }

  get(key: string): readonly string[] {
    const set = this.map.get(key);
    return set === undefined ? [] : [...set];
  }
}

export class AgentDirectory {
  private readonly agents = new Map<string, DirectoryEntry>();
  private readonly byAddress = new Index();
  private readonly byQueue = new Index();
  private readonly byOrigin = new Index();
  /** address -> service name, as the agents declared it (names the hop when the agent is gone). */
  private readonly serviceOfAddress = new Map<string, string>();

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly maxAgents = DEFAULT_MAX_AGENTS,
  ) {}

  get size(): number {
    return this.agents.size;
  }

  /** Adds or refreshes an agent; throws TooManyAgentsError for a new one past the limit. */
  register(info: AgentInfo): void {
    const old = this.agents.get(info.agent);
    if (old === undefined && this.agents.size >= this.maxAgents) throw new TooManyAgentsError(this.maxAgents);
    if (old !== undefined) this.unindex(old.info);
    this.agents.set(info.agent, { info, lastSeenMs: this.clock() });
    for (const a of info.addresses) {
      this.byAddress.add(a.address, info.agent);
      if (a.service !== undefined) this.serviceOfAddress.set(a.address, a.service);
    }
    for (const q of info.queues) this.byQueue.add(q.queue, info.agent);
    for (const o of info.origins) this.byOrigin.add(o, info.agent);
  }

  /** Forgets an agent (it said goodbye). */
  remove(agent: string): boolean {
    const old = this.agents.get(agent);
    if (old === undefined) return false;
    this.unindex(old.info);
    this.agents.delete(agent);
    return true;
  }

  private unindex(info: AgentInfo): void {
    for (const a of info.addresses) this.byAddress.remove(a.address, info.agent);
    for (const q of info.queues) this.byQueue.remove(q.queue, info.agent);
    for (const o of info.origins) this.byOrigin.remove(o, info.agent);
  }

  /** Agents holding the instance at `host:port`: an exact entry, else a per-host `host:*` one. */
  agentsOfAddress(key: string): readonly string[] {
    const exact = this.byAddress.get(key);
    return exact.length > 0 ? exact : this.byAddress.get(wildcardOf(key));
  }

  agentsOfQueue(queue: string): readonly string[] {
    return this.byQueue.get(queue);
  }

  /** Agents that stored root spans of traces started at `ip:port`, else the agents of that address. */
  agentsOfOrigin(key: string): readonly string[] {
    const found = this.byOrigin.get(key);
    return found.length > 0 ? found : this.agentsOfAddress(key);
  }

  serviceOf(address: string): string | undefined {
    return this.serviceOfAddress.get(address) ?? this.serviceOfAddress.get(wildcardOf(address));
  }

  /** The one service an agent serves, when it serves exactly one (names a hop the agent cannot answer for). */
  soleServiceOf(agent: string): string | undefined {
    const info = this.agents.get(agent)?.info;
    if (info === undefined) return undefined;
    const names = new Set<string>();
    for (const i of info.instances) names.add(i.service);
    for (const a of info.addresses) if (a.service !== undefined) names.add(a.service);
    return names.size === 1 ? [...names][0] : undefined;
  }

  isAlive(agent: string): boolean {
    const e = this.agents.get(agent);
    return e !== undefined && this.clock() - e.lastSeenMs <= MISSED_HEARTBEATS * e.info.heartbeatMs;
  }

  has(agent: string): boolean {
    return this.agents.has(agent);
  }

  /** Every agent, alive ones first, each in registration order. */
  list(): AgentStatus[] {
    const out = [...this.agents.values()].map((e) => ({ ...e.info, lastSeenMs: e.lastSeenMs, alive: this.isAlive(e.info.agent) }));
    return [...out.filter((a) => a.alive), ...out.filter((a) => !a.alive)];
  }

  /** Every agent URL, alive ones first. */
  urls(): string[] {
    const all = [...this.agents.keys()];
    return [...all.filter((a) => this.isAlive(a)), ...all.filter((a) => !this.isAlive(a))];
  }
}
