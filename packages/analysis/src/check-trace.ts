/**
 * The built-in chain checks of DESIGN §4 over one trace. Pure: the clock is passed in.
 *
 * Precedence (one broken hop, one finding): a span that failed (`stage-error`) or never ended
 * (`unfinished-span`) is a fault; a fault is reported only when no fault lies below it on a
 * synchronous path (the deepest cause wins), and the "missing" rules (`missing-write`,
 * `missing-downstream-receive`, `not-consumed`) stay silent for a hop whose failure a fault already
 * explains, and for a hop that is still in progress (started within the deadline, or an open span
 * within the deadline below it). `flow-step-missing` stays silent where a built-in rule already
 * named the hop.
 */
import type { Span } from '@linktrace/model';
import { dataMismatches } from './data-mismatch.js';
import { duplicateWriteSources } from './duplicate-write.js';
import type { Finding, FindingEntity, RuleId } from './finding.js';
import type { FlowContract } from './flow-contract.js';
import { durationPhrase, entityPhrase, targetKind, targetName } from './span-facts.js';
import type { StageFact } from './span-facts.js';
import { evaluateFlowFacts } from './evaluate-flow.js';
import { FlowIndex } from './flow-index.js';
import { readFacts } from './trace-facts.js';
import type { TraceFacts } from './trace-facts.js';

export interface CheckOptions {
  /** Rule deadline in ms (unfinished spans, consumers, downstream receives). Default: the check delay, 30 000. */
  deadlineMs?: number;
  /** `slow-chain` objective in ms, first receive → last write; off when absent. */
  slowChainObjectiveMs?: number;
  /**
   * Flow contracts checked on every trace they match. Pass a FlowIndex when checking many traces
   * against many contracts: only the contracts a trace could be an instance of are evaluated.
   */
  flows?: readonly FlowContract[] | FlowIndex;
  /** Rules not to run or report, e.g. HOST_CROSSING_RULES when the spans are one host's only. */
  skipRules?: ReadonlySet<RuleId>;
}

/**
 * Rules whose evidence lies on other hosts as often as not: the callee's receive, the consumer of a
 * message, the chain's last write, a flow's later steps. On one host's spans (a federated agent's)
 * they would fire falsely; the gateway checks whole traces.
 */
export const HOST_CROSSING_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['missing-downstream-receive', 'not-consumed', 'slow-chain', 'flow-step-missing']);

export const DEFAULT_DEADLINE_MS = 30_000;

const FAULT_NONE = 0;
const FAULT_UNFINISHED = 1;
const FAULT_ERROR = 2;

function resolveDeadlineUs(options: CheckOptions): number {
  const d = options.deadlineMs;
  return (typeof d === 'number' && Number.isFinite(d) && d >= 0 ? d : DEFAULT_DEADLINE_MS) * 1000;
}

function finding(
  span: Span,
  rule: RuleId,
  message: string,
  entity: FindingEntity | undefined,
  target: string | undefined,
): Finding {
  const f: Finding = {
    traceId: typeof span.traceId === 'string' ? span.traceId : '',
    rule,
    service: typeof span.service === 'string' ? span.service : '',
    spanId: span.spanId,
    message,
    timeUs: Number.isFinite(span.startUs) ? span.startUs : 0,
  };
  if (entity !== undefined) f.entity = entity;
  if (target !== undefined) f.target = target;
  return f;
}

/** Writes (and deliberate skips) of one service-contiguous part of the trace, by entity. */
interface WriteSet {
  anyEntityless: boolean;
  byKey: Set<string>;
  byVersion: Set<string>;
  unversioned: Set<string>;
}

function newWriteSet(): WriteSet {
  return { anyEntityless: false, byKey: new Set(), byVersion: new Set(), unversioned: new Set() };
}

function addEntity(set: WriteSet, e: FindingEntity | undefined): void {
  if (e === undefined) {
    set.anyEntityless = true;
    return;
  }
  const k = e.type + '\u0000' + e.key;
  set.byKey.add(k);
  if (e.version === undefined) set.unversioned.add(k);
  else set.byVersion.add(k + '\u0000' + e.version);
}

function covers(set: WriteSet | undefined, e: FindingEntity | undefined, ignoreVersion: boolean): boolean {
  if (set === undefined) return false;
  if (set.anyEntityless) return true;
  if (e === undefined) return set.byKey.size > 0;
  const k = e.type + '\u0000' + e.key;
  if (ignoreVersion || e.version === undefined) return set.byKey.has(k);
  return set.unversioned.has(k) || set.byVersion.has(k + '\u0000' + e.version);
}

function stagePhrase(service: string, stage: StageFact, entity: FindingEntity | undefined, target: string | undefined): string {
  let s = `${service} ${stage}`;
  if (entity !== undefined) s += ` of ${entityPhrase(entity)}`;
  if (target !== undefined) s += ` to ${target}`;
  return s;
}

export function checkTrace(spans: readonly Span[], options: CheckOptions, nowUs: number): Finding[] {
  const facts = readFacts(Array.isArray(spans) ? spans : []);
  const deadlineUs = resolveDeadlineUs(options ?? {});
  const skip = options?.skipRules;
  let findings = checkFacts(facts, deadlineUs, nowUs);
  for (const f of dataMismatches(facts)) findings.push(f);
  const objective = options?.slowChainObjectiveMs;
  if (typeof objective === 'number' && Number.isFinite(objective) && objective >= 0 && skip?.has('slow-chain') !== true) {
    const slow = slowChain(facts, objective * 1000);
    if (slow !== undefined) findings.push(slow);
  }
  const flows = skip?.has('flow-step-missing') === true ? undefined : options?.flows;
  if (flows instanceof FlowIndex) {
    if (flows.size > 0) addFlowFindings(findings, facts, flows.candidates(facts), nowUs);
  } else if (Array.isArray(flows) && flows.length > 0) addFlowFindings(findings, facts, flows, nowUs);
  if (skip !== undefined && skip.size > 0 && findings.length > 0) findings = findings.filter((f) => !skip.has(f.rule));
  findings.sort((a, b) => a.timeUs - b.timeUs);
  return findings;
}

function checkFacts(facts: TraceFacts, deadlineUs: number, nowUs: number): Finding[] {
  const { graph, stage, entity, target } = facts;
  const { spans, parent, async, order, linkedConsumerUs } = graph;
  const n = spans.length;
  const out: Finding[] = [];
  if (n === 0) return out;
  const cutoffUs = nowUs - deadlineUs;

  const fault = new Uint8Array(n);
  const pending = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    // Only a start record is still running; a finished span of unknown length (a Zipkin span
    // without duration, `durationUnknown`) is not.
    const open = (typeof s.durationUs !== 'number' || !Number.isFinite(s.durationUs)) && s.durationUnknown !== true;
    if (open) {
      if (s.startUs <= cutoffUs) fault[i] = FAULT_UNFINISHED;
      else pending[i] = 1;
    } else if (stage[i] !== undefined && s.status?.code === 'error') {
      fault[i] = FAULT_ERROR;
    }
  }

  // Subtree aggregates, children before parents. Faults and in-progress work propagate over
  // synchronous edges only: a caller waits for its callee, a producer does not wait for its consumer.
  const faultBelow = new Uint8Array(n);
  const pendingBelow = new Uint8Array(n);
  const receiveBelow = new Uint8Array(n);
  const consumerUs = new Float64Array(linkedConsumerUs);
  for (let o = n - 1; o >= 0; o--) {
    const i = order[o]!;
    const p = parent[i]!;
    if (p < 0) continue;
    const s = spans[i]!;
    if (async[i] === 0) {
      if (fault[i] !== FAULT_NONE || faultBelow[i] === 1) faultBelow[p] = 1;
      if (pending[i] === 1 || pendingBelow[i] === 1) pendingBelow[p] = 1;
    }
    const st = stage[i];
    // Work recorded by another service below a hop is evidence that the hop arrived there, even when
    // that service's receiving span itself was lost (it was attached by rpcid).
    const crossing = s.service !== spans[p]!.service;
    if (crossing || st === 'receive' || s.kind === 'server' || s.kind === 'consumer' || receiveBelow[i] === 1) receiveBelow[p] = 1;
    let c = consumerUs[i]!;
    // A span of unknown start (a Zipkin span without timestamp) shows the message arrived, not when.
    const arrivedUs = s.startUnknown === true ? -Infinity : s.startUs;
    if ((crossing || s.kind === 'consumer' || st === 'dequeue' || st === 'consume' || st === 'receive') && arrivedUs < c) c = arrivedUs;
    if (c < consumerUs[p]!) consumerUs[p] = c;
  }

  // Service-contiguous parts ("that service's subtree"): a node joins its parent's part when both
  // are the same service on a synchronous edge.
  const comp = new Int32Array(n);
  let writes: Map<number, WriteSet> | undefined;
  let faults: Map<number, WriteSet> | undefined;
  for (let o = 0; o < n; o++) {
    const i = order[o]!;
    const p = parent[i]!;
    const sameService = p >= 0 && async[i] === 0 && spans[p]!.service === spans[i]!.service;
    comp[i] = sameService ? comp[p]! : i;
    const st = stage[i];
    if (st === 'write' || st === 'skip' || st === 'enqueue') {
      writes ??= new Map();
      let set = writes.get(comp[i]!);
      if (set === undefined) writes.set(comp[i]!, (set = newWriteSet()));
      addEntity(set, entity[i]);
    }
    if (fault[i] !== FAULT_NONE || (p >= 0 && !sameService && async[i] === 0 && (faultBelow[i] === 1 || fault[i] !== FAULT_NONE))) {
      // A failed step, or a failed synchronous call into another service, explains what its part did not do.
      const owner = fault[i] !== FAULT_NONE ? i : p;
      const ownerComp = fault[i] !== FAULT_NONE ? comp[i]! : comp[p]!;
      faults ??= new Map();
      let set = faults.get(ownerComp);
      if (set === undefined) faults.set(ownerComp, (set = newWriteSet()));
      addEntity(set, entity[owner]);
    }
  }

  let dup: Map<string, number[]> | undefined;

  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    const st = stage[i];
    const f = fault[i]!;
    const service = typeof s.service === 'string' ? s.service : '';
    if (f !== FAULT_NONE) {
      if (faultBelow[i] === 1) continue;
      if (f === FAULT_UNFINISHED) {
        const what = st === undefined ? `${service} ${String(s.name)}` : stagePhrase(service, st, entity[i], target[i]);
        out.push(finding(s, 'unfinished-span', `${what} started ${durationPhrase(nowUs - s.startUs)} before the check and never ended`, entity[i], target[i]));
      } else {
        const why = typeof s.status?.message === 'string' && s.status.message.length > 0 ? `: ${s.status.message}` : '';
        out.push(finding(s, 'stage-error', `${stagePhrase(service, st!, entity[i], target[i])} failed${why}`, entity[i], target[i]));
      }
      continue;
    }
    if (st === undefined) continue;
    const fresh = !(s.startUs <= cutoffUs);
    const busy = faultBelow[i] === 1 || pendingBelow[i] === 1;

    if (st === 'receive') {
      const root = comp[i]!;
      if (fresh || busy || pendingBelow[root] === 1 || pending[root] === 1) continue;
      if (covers(writes?.get(root), entity[i], false)) continue;
      if (covers(faults?.get(root), entity[i], true)) continue;
      out.push(finding(s, 'missing-write', `${service} received ${entityPhrase(entity[i])} and never wrote it`, entity[i], undefined));
      continue;
    }

    const t = target[i];
    const kind = targetKind(t);
    if (st === 'write' && kind === 'service') {
      if (fresh || busy || receiveBelow[i] === 1) continue;
      out.push(finding(s, 'missing-downstream-receive', `${service} wrote ${entityPhrase(entity[i])} to ${t!} and no service received it`, entity[i], t));
    } else if (st === 'enqueue' || (st === 'write' && kind === 'queue')) {
      if (fresh || busy) continue;
      const firstUs = consumerUs[i]!;
      if (firstUs <= s.startUs + deadlineUs) continue;
      // Enqueued at an unknown time: only "never consumed" can be told.
      if (s.startUnknown === true && firstUs !== Infinity) continue;
      const name = t !== undefined ? targetName(t) : String(s.name);
      const tail = firstUs === Infinity ? 'never consumed' : `consumed only after ${durationPhrase(firstUs - s.startUs)} (deadline ${durationPhrase(deadlineUs)})`;
      out.push(finding(s, 'not-consumed', `${name} message enqueued by ${service}, ${tail}`, entity[i], t));
    }

    if (st === 'write' && t !== undefined && s.status?.code !== 'error') {
      const e = entity[i];
      if (e !== undefined && e.version !== undefined) {
        const key = t + '\u0000' + e.type + '\u0000' + e.key + '\u0000' + e.version;
        dup ??= new Map();
        const seen = dup.get(key);
        if (seen === undefined) dup.set(key, [i]);
        else seen.push(i);
      }
    }
  }

  if (dup !== undefined) {
    for (const writes of dup.values()) {
      if (writes.length < 2) continue;
      // The repeat is the later write, whatever order the spans arrived in.
      writes.sort((a, b) => spans[a]!.startUs - spans[b]!.startUs || a - b);
      const second = writes[1]!;
      const times = writes.length === 2 ? 'twice' : `${writes.length} times`;
      // A write repeated by a redelivery names the deliveries (one finding still: the hop is the repeated write).
      const sources = duplicateWriteSources(graph, stage, writes);
      const message = `${entityPhrase(entity[second])} written ${times} to ${target[second]!}${sources.clause}`;
      const f = finding(spans[second]!, 'duplicate-write', message, entity[second], target[second]);
      if (sources.deliveries !== undefined) f.deliveries = sources.deliveries;
      out.push(f);
    }
  }
  return out;
}

/** First receive → last write over the whole trace, against the objective. */
function slowChain(facts: TraceFacts, objectiveUs: number): Finding | undefined {
  const { spans } = facts.graph;
  let first = -1;
  let last = -1;
  let lastEnd = -Infinity;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const st = facts.stage[i];
    // A span of unknown start cannot be timed.
    if (s.startUnknown === true) continue;
    if (st === 'receive' && (first < 0 || s.startUs < spans[first]!.startUs)) first = i;
    else if (st === 'write' && typeof s.durationUs === 'number') {
      const end = s.startUs + s.durationUs;
      if (end > lastEnd) {
        lastEnd = end;
        last = i;
      }
    }
  }
  if (first < 0 || last < 0) return undefined;
  const took = lastEnd - spans[first]!.startUs;
  if (!(took > objectiveUs)) return undefined;
  const a = spans[first]!;
  const b = spans[last]!;
  const msg = `chain from ${a.service} receive of ${entityPhrase(facts.entity[first])} to ${b.service} write to ${facts.target[last] ?? 'its target'} took ${durationPhrase(took)} (objective ${durationPhrase(objectiveUs)})`;
  return finding(b, 'slow-chain', msg, facts.entity[last], facts.target[last]);
}

const EXPLAINING: ReadonlySet<RuleId> = new Set<RuleId>(['missing-write', 'missing-downstream-receive', 'not-consumed', 'unfinished-span', 'stage-error']);

function addFlowFindings(out: Finding[], facts: TraceFacts, flows: readonly FlowContract[], nowUs: number): void {
  const named = new Set<string>();
  for (const f of out) if (EXPLAINING.has(f.rule)) named.add(f.service);
  for (const contract of flows) {
    const result = evaluateFlowFacts(contract, facts, nowUs);
    for (const f of result.findings) {
      const anchor = facts.graph.spans.find((s) => s.spanId === f.spanId);
      if (named.has(f.service) || (anchor !== undefined && named.has(anchor.service))) continue;
      out.push(f);
    }
  }
}
