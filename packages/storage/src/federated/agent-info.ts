/**
 * What an agent says about itself (`GET /api/v1/agent`, and the body of its heartbeat to the
 * gateway): where to reach it and which instances, addresses, queues and trace origins it holds
 * spans for. `parseAgentInfo` checks one from the wire: bounded, typed, never trusted blindly.
 */
import { MAX_POINTER_LENGTH, parseAddress } from './peer-address.js';

export interface AgentInstance {
  service: string;
  instance?: string;
}

export interface AgentAddress {
  /** `host:port` or `host:*` (every port of that host). */
  address: string;
  service?: string;
}

export interface AgentQueue {
  queue: string;
  service?: string;
}

export interface AgentInfo {
  /** Base URL the gateway reads spans from (`<agent>/api/v1/traces/{id}`). */
  agent: string;
  /** How often it sends a heartbeat, ms: the gateway calls it dead after three missed. */
  heartbeatMs: number;
  startedAtMs: number;
  /** Service instances whose spans it stored. */
  instances: AgentInstance[];
  /** Addresses of those instances (declared with `--serves`, or learned from server spans). */
  addresses: AgentAddress[];
  /** Queues consumed by those instances. */
  queues: AgentQueue[];
  /** `ip:port` decoded from the trace ids of the root spans it stored: where its traces start. */
  origins: string[];
  /** Spans it stored since it started. */
  spansStored: number;
}

/** Most entries of each list in one agent's answer; past it, the rest is dropped (and counted by the agent). */
export const MAX_AGENT_ENTRIES = 10_000;
const MAX_TEXT = MAX_POINTER_LENGTH;

export class AgentInfoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentInfoError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shortText(v: unknown, field: string, optional: true): string | undefined;
function shortText(v: unknown, field: string, optional?: false): string;
function shortText(v: unknown, field: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > MAX_TEXT) throw new AgentInfoError(`${field}: not a string of 1..${MAX_TEXT} characters`);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new AgentInfoError(`${field}: not an array`);
  if (v.length > MAX_AGENT_ENTRIES) throw new AgentInfoError(`${field}: more than ${MAX_AGENT_ENTRIES} entries`);
  return v;
}

/** An http(s) base URL without a trailing slash; throws AgentInfoError otherwise. */
export function agentBaseUrl(text: unknown, field = 'agent'): string {
  const t = shortText(text, field);
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new AgentInfoError(`${field}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AgentInfoError(`${field}: not an http(s) URL`);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new AgentInfoError(`${field}: must not have a query, fragment or credentials`);
  }
  return url.href.replace(/\/+$/, '');
}

/** Checks an agent's self-description from the wire; throws AgentInfoError naming the bad field. */
export function parseAgentInfo(body: unknown): AgentInfo {
  if (!isObject(body)) throw new AgentInfoError('body: not a JSON object');
  const heartbeatMs = body.heartbeatMs;
  if (typeof heartbeatMs !== 'number' || !Number.isInteger(heartbeatMs) || heartbeatMs < 100 || heartbeatMs > 3_600_000) {
    throw new AgentInfoError('heartbeatMs: not an integer in 100..3600000');
  }
  const startedAtMs = typeof body.startedAtMs === 'number' && Number.isFinite(body.startedAtMs) ? body.startedAtMs : 0;
  const spansStored = typeof body.spansStored === 'number' && Number.isFinite(body.spansStored) && body.spansStored >= 0 ? body.spansStored : 0;
  const instances = list(body.instances, 'instances').map((e, i) => {
    if (!isObject(e)) throw new AgentInfoError(`instances[${i}]: not an object`);
    const instance = shortText(e.instance, `instances[${i}].instance`, true);
    const service = shortText(e.service, `instances[${i}].service`);
    return instance === undefined ? { service } : { service, instance };
  });
  const addresses = list(body.addresses, 'addresses').map((e, i) => {
    if (!isObject(e)) throw new AgentInfoError(`addresses[${i}]: not an object`);
    const address = parseAddress(shortText(e.address, `addresses[${i}].address`));
    if (address === undefined) throw new AgentInfoError(`addresses[${i}].address: not host:port or host:*`);
    const service = shortText(e.service, `addresses[${i}].service`, true);
    return service === undefined ? { address } : { address, service };
  });
  const queues = list(body.queues, 'queues').map((e, i) => {
    if (!isObject(e)) throw new AgentInfoError(`queues[${i}]: not an object`);
    const queue = shortText(e.queue, `queues[${i}].queue`);
    const service = shortText(e.service, `queues[${i}].service`, true);
    return service === undefined ? { queue } : { queue, service };
  });
  const origins = list(body.origins, 'origins').map((e, i) => {
    const origin = parseAddress(shortText(e, `origins[${i}]`));
    if (origin === undefined) throw new AgentInfoError(`origins[${i}]: not ip:port`);
    return origin;
  });
  return { agent: agentBaseUrl(body.agent), heartbeatMs, startedAtMs, instances, addresses, queues, origins, spansStored };
}
