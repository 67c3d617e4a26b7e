/**
 * Flow contracts indexed by what starts an instance (the `match`, or else the first step), so that
 * checking a trace costs the trace's spans plus the contracts it could be an instance of, not the
 * number of contracts in force: a contract is evaluated only when some span of the trace has the
 * service (else the stage, the target, the entity type) its instance match asks for.
 */
import type { FlowContract, FlowMatch } from './flow-contract.js';
import type { TraceFacts } from './trace-facts.js';

/** The fields that recognise an instance: the match when it names any, else the first step. */
function instanceMatch(contract: FlowContract): FlowMatch | undefined {
  const m = contract.match;
  if (m !== undefined && (m.service !== undefined || m.stage !== undefined || m.target !== undefined || m.entityType !== undefined)) return m;
  return Array.isArray(contract.steps) ? contract.steps[0] : undefined;
}

function add(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else list.push(index);
}

export class FlowIndex {
  /** Contract positions by the most selective field of their instance match. */
  private readonly byService = new Map<string, number[]>();
  private readonly byStage = new Map<string, number[]>();
  private readonly byTarget = new Map<string, number[]>();
  private readonly byEntityType = new Map<string, number[]>();
  private readonly seen: Uint8Array;

  constructor(readonly contracts: readonly FlowContract[]) {
    this.seen = new Uint8Array(contracts.length);
    contracts.forEach((contract, i) => {
      const m = instanceMatch(contract);
      if (m?.service !== undefined) add(this.byService, m.service, i);
      else if (m?.stage !== undefined) add(this.byStage, m.stage, i);
      else if (m?.target !== undefined) add(this.byTarget, m.target, i);
      else if (m !== undefined && 'entityType' in m && m.entityType !== undefined) add(this.byEntityType, m.entityType, i);
      // A contract with nothing to recognise an instance by never matches: it is never a candidate.
    });
  }

  get size(): number {
    return this.contracts.length;
  }

  /**
   * The contracts a trace could be an instance of, in declaration order. Cost: four map look-ups per
   * span plus the candidates; a contract's own match is still checked by its evaluation.
   */
  candidates(facts: TraceFacts): FlowContract[] {
    const picked: number[] = [];
    const seen = this.seen;
    const take = (list: number[] | undefined): void => {
      if (list === undefined) return;
      for (const i of list) {
        if (seen[i] === 0) {
          seen[i] = 1;
          picked.push(i);
        }
      }
    };
    const spans = facts.graph.spans;
    for (let i = 0; i < spans.length; i++) {
      take(this.byService.get(spans[i]!.service));
      const stage = facts.stage[i];
      if (stage !== undefined) take(this.byStage.get(stage));
      const target = facts.target[i];
      if (target !== undefined) take(this.byTarget.get(target));
      const entityType = facts.entity[i]?.type;
      if (entityType !== undefined) take(this.byEntityType.get(entityType));
    }
    for (const i of picked) seen[i] = 0;
    if (picked.length > 1) picked.sort((a, b) => a - b);
    return picked.map((i) => this.contracts[i]!);
  }
}
