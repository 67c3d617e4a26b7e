/** The federated store's read side (DESIGN §6, §8): agent directory, next-hop pointers, the walker. */
export { addressKey, normalizeHost, parseAddress, pointersOf, pointerText, wildcardOf, MAX_POINTER_LENGTH } from './peer-address.js';
export type { Pointer } from './peer-address.js';
export { agentBaseUrl, parseAgentInfo, AgentInfoError, MAX_AGENT_ENTRIES } from './agent-info.js';
export type { AgentAddress, AgentInfo, AgentInstance, AgentQueue } from './agent-info.js';
export { AgentDirectory, TooManyAgentsError, DEFAULT_MAX_AGENTS, MISSED_HEARTBEATS } from './agent-directory.js';
export type { AgentStatus, DirectoryEntry } from './agent-directory.js';
export { fetchAgentTrace } from './agent-client.js';
export type { AgentAnswer, AgentFetchOptions } from './agent-client.js';
export { walkTrace, WALK_DEFAULTS } from './walk-trace.js';
export type { WalkOptions } from './walk-trace.js';
export type { AgentAsked, Hop, HopStatus, WalkedTrace, WalkLimit, WalkSummary } from './hop-types.js';
