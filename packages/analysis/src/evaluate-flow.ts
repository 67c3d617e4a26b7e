/** Checks one trace against a flow contract, and summarises many such results. */
import type { Span } from '@linktrace/model';
import type { Finding } from './finding.js';
import type { FlowContract, FlowResult, FlowStep, FlowStepResult, FlowSummary } from './flow-contract.js';
import { readFacts } from './trace-facts.js';
import type { TraceFacts } from './trace-facts.js';
import { durationPhrase } from './span-facts.js';

/** Evaluates `contract` on one trace's spans (start records merged with their full records). */
export function evaluateFlow(contract: FlowContract, spans: readonly Span[], nowUs: number): FlowResult {
  return evaluateFlowFacts(contract, readFacts(Array.isArray(spans) ? spans : []), nowUs);
}

function stepMatches(facts: TraceFacts, i: number, step: FlowStep): boolean {
  return (
    facts.stage[i] === step.stage &&
    facts.graph.spans[i]!.service === step.service &&
    (step.target === undefined || facts.target[i] === step.target)
  );
}

function instanceMatches(facts: TraceFacts, i: number, contract: FlowContract): boolean {
  const m = contract.match;
  if (m === undefined || (m.service === undefined && m.stage === undefined && m.target === undefined && m.entityType === undefined)) {
    const first = contract.steps[0];
    return first !== undefined && stepMatches(facts, i, first);
  }
  const s = facts.graph.spans[i]!;
  if (m.service !== undefined && s.service !== m.service) return false;
  if (m.stage !== undefined && facts.stage[i] !== m.stage) return false;
  if (m.target !== undefined && facts.target[i] !== m.target) return false;
  if (m.entityType !== undefined && facts.entity[i]?.type !== m.entityType) return false;
  return true;
}

function stepPhrase(step: FlowStep): string {
  return step.target === undefined ? `${step.service} ${step.stage}` : `${step.service} ${step.stage} ${step.target}`;
}

export function evaluateFlowFacts(contract: FlowContract, facts: TraceFacts, nowUs: number): FlowResult {
  const spans = facts.graph.spans;
  const steps = Array.isArray(contract?.steps) ? contract.steps : [];
  const result: FlowResult = { flow: String(contract?.name), traceId: spans[0]?.traceId ?? '', status: 'not-matched', steps: [], findings: [] };
  let startUs = Infinity;
  let anchor = -1;
  for (let i = 0; i < spans.length; i++) {
    if (instanceMatches(facts, i, contract) && spans[i]!.startUnknown !== true && spans[i]!.startUs < startUs) {
      startUs = spans[i]!.startUs;
      anchor = i;
    }
  }
  if (anchor < 0) {
    result.steps = steps.map((step) => ({ step, status: 'missing' }));
    return result;
  }
  result.startUs = startUs;
  const deadlineUs = startUs + (Number.isFinite(contract.deadlineMs) ? contract.deadlineMs : 0) * 1000;
  const atDeadline = nowUs >= deadlineUs;
  const stepSpan: number[] = [];
  let lastDone = startUs;
  let broken = false;
  let pending = false;
  for (const step of steps) {
    // The step is done by the earliest-ending successful span that matches it.
    let best = -1;
    let bestEnd = Infinity;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i]!;
      // Done: ended, or finished at a time not reported (a Zipkin span of unknown length counts as
      // done at its start, one of unknown start at the flow's start: neither can be shown late).
      const finished = typeof s.durationUs === 'number' || s.durationUnknown === true;
      if (!finished || s.status?.code === 'error' || !stepMatches(facts, i, step)) continue;
      const end = s.startUnknown === true ? startUs : s.startUs + (s.durationUs ?? 0);
      if (end < bestEnd) {
        bestEnd = end;
        best = i;
      }
    }
    stepSpan.push(best);
    let r: FlowStepResult;
    if (best >= 0) {
      r = { step, status: bestEnd <= deadlineUs ? 'ok' : 'late', spanId: spans[best]!.spanId, doneUs: bestEnd };
      if (r.status === 'late') broken = true;
      if (bestEnd > lastDone) lastDone = bestEnd;
    } else if (atDeadline) {
      r = { step, status: 'missing' };
      broken = true;
    } else {
      r = { step, status: 'pending' };
      pending = true;
    }
    result.steps.push(r);
  }
  result.status = broken ? 'broken' : pending ? 'pending' : 'complete';
  if (result.status === 'complete') result.endToEndUs = lastDone - startUs;
  if (broken) addFindings(result, contract, facts, anchor, stepSpan, deadlineUs - startUs);
  return result;
}

/**
 * One finding per gap: a missing step right after a step that was seen (later missing steps follow
 * from it), and the first late step.
 */
function addFindings(result: FlowResult, contract: FlowContract, facts: TraceFacts, anchor: number, stepSpan: number[], budgetUs: number): void {
  const spans = facts.graph.spans;
  let lateReported = false;
  for (let k = 0; k < result.steps.length; k++) {
    const r = result.steps[k]!;
    if (r.status === 'missing') {
      const prev = k === 0 ? anchor : stepSpan[k - 1]!;
      if (prev < 0) continue;
      const seen = spans[prev]!;
      const after = k === 0 ? 'the flow started' : stepPhrase(result.steps[k - 1]!.step);
      result.findings.push(flowFinding(seen, facts, prev, r.step, `flow ${contract.name}: step ${stepPhrase(r.step)} never happened (last seen: ${after})`));
    } else if (r.status === 'late' && !lateReported) {
      lateReported = true;
      const i = stepSpan[k]!;
      const took = (r.doneUs ?? 0) - (result.startUs ?? 0);
      result.findings.push(flowFinding(spans[i]!, facts, i, r.step, `flow ${contract.name}: step ${stepPhrase(r.step)} ended ${durationPhrase(took)} after the flow started (deadline ${durationPhrase(budgetUs)})`));
    }
  }
}

function flowFinding(span: Span, facts: TraceFacts, i: number, step: FlowStep, message: string): Finding {
  const f: Finding = {
    traceId: span.traceId,
    rule: 'flow-step-missing',
    service: step.service,
    spanId: span.spanId,
    message,
    timeUs: span.startUs,
  };
  const e = facts.entity[i];
  if (e !== undefined) f.entity = e;
  if (step.target !== undefined) f.target = step.target;
  return f;
}

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Summary of the given results (pass one flow's results; not-matched results are not instances). */
export function summarizeFlow(results: readonly FlowResult[]): FlowSummary {
  const summary: FlowSummary = { flow: results[0]?.flow ?? '', instances: 0, complete: 0, broken: 0, pending: 0 };
  const times: number[] = [];
  for (const r of results) {
    if (r.status === 'not-matched') continue;
    summary.instances++;
    if (r.status === 'complete') {
      summary.complete++;
      if (r.endToEndUs !== undefined) times.push(r.endToEndUs);
    } else if (r.status === 'broken') summary.broken++;
    else summary.pending++;
  }
  if (times.length > 0) {
    times.sort((a, b) => a - b);
    summary.p50Us = nearestRank(times, 0.5);
    summary.p99Us = nearestRank(times, 0.99);
  }
  return summary;
}
