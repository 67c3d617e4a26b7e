// Pure analysis over the span model: chain checks, flow contracts, and the bounded buffer of open
// traces that the server schedules. No I/O, no timers: the clock is always passed in.
export { RULE_IDS } from './finding.js';
export type { Finding, FindingDelivery, FindingEntity, RuleId } from './finding.js';
export { checkTrace, DEFAULT_DEADLINE_MS } from './check-trace.js';
export type { CheckOptions } from './check-trace.js';
export type { FlowContract, FlowMatch, FlowStep, FlowResult, FlowStepResult, FlowStepStatus, FlowStatus, FlowSummary } from './flow-contract.js';
export { evaluateFlow, evaluateFlowFacts, summarizeFlow } from './evaluate-flow.js';
export { FlowIndex } from './flow-index.js';
export { readFacts } from './trace-facts.js';
export type { TraceFacts } from './trace-facts.js';
export { parseFlows, formatFlowError } from './parse-flows.js';
export { validateFlows } from './validate-flows.js';
export type { FlowError, FlowsResult } from './validate-flows.js';
export { compactSpan, StringPool, CHECKED_ATTRIBUTES } from './check-span.js';
export { TraceBuffer, DEFAULT_CHECK_DELAY_MS, DEFAULT_MAX_WAIT_MS, DEFAULT_MAX_OPEN_TRACES, DEFAULT_MAX_SPANS_PER_TRACE } from './trace-buffer.js';
export type { TraceBufferOptions, TraceBufferStats, TakenTrace } from './trace-buffer.js';
export { criticalPath } from './critical-path.js';
export { buildServiceMap, serviceMapFromSpans, serviceMapRows, queueOf, isQueueId, QUEUE_PREFIX } from './topology.js';
export type { ServiceMap, ServiceMapNode, ServiceMapNodeKind, ServiceMapEdge, EdgeRow } from './topology.js';
