/** Flow contracts (DESIGN §4): the steps a business flow must pass, and its deadline. */
import type { Stage } from '@linktrace/model';
import type { Finding } from './finding.js';

/** One step: a span of `service` with `linktrace.stage` = `stage` (and `linktrace.target` = `target` when given). */
export interface FlowStep {
  service: string;
  stage: Stage;
  target?: string;
}

/**
 * How a trace is recognised as an instance of the flow: a span with all the given fields. An absent
 * or empty `match` means "a span matching the first step".
 */
export interface FlowMatch {
  service?: string;
  stage?: Stage;
  target?: string;
  entityType?: string;
}

export interface FlowContract {
  name: string;
  match?: FlowMatch;
  steps: FlowStep[];
  /** Every step must have ended within this many ms of the instance's start. */
  deadlineMs: number;
}

export type FlowStepStatus = 'ok' | 'late' | 'missing' | 'pending';

export interface FlowStepResult {
  step: FlowStep;
  status: FlowStepStatus;
  /** The span that did the step (ok or late). */
  spanId?: string;
  /** When the step ended, µs since the epoch (ok or late). */
  doneUs?: number;
}

/**
 * `not-matched`: the trace is no instance of the flow. `pending`: steps are missing but the deadline
 * has not passed yet. `complete`: every step in time. `broken`: a step late, or missing at the deadline.
 */
export type FlowStatus = 'not-matched' | 'pending' | 'complete' | 'broken';

export interface FlowResult {
  flow: string;
  traceId: string;
  status: FlowStatus;
  /** Start of the earliest span that matched, µs since the epoch. */
  startUs?: number;
  /** Instance start → last step's end, when complete. */
  endToEndUs?: number;
  steps: FlowStepResult[];
  /** `flow-step-missing` findings: the first missing step after a step seen, and the first late step. */
  findings: Finding[];
}

export interface FlowSummary {
  flow: string;
  /** Matched instances (pending + complete + broken). */
  instances: number;
  complete: number;
  broken: number;
  pending: number;
  /** End-to-end time of complete instances (nearest rank), µs; undefined when none is complete. */
  p50Us?: number;
  p99Us?: number;
}
