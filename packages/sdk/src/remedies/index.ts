export { RemedyAgent, type RemedyAgentCounters, type RemedyAgentOptions, type RemedyHandler, type RemedyHandlers, type RemedyOutcome, type RemedyRequest } from './remedy-agent.js';
export { remedyAgentFromEnv } from './remedy-agent-from-env.js';
