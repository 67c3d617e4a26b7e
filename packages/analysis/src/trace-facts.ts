/** A trace's graph plus the chain attributes of each node, read once and shared by the checks and flows. */
import type { Span } from '@linktrace/model';
import type { FindingEntity } from './finding.js';
import { buildTraceGraph } from './trace-graph.js';
import type { TraceGraph } from './trace-graph.js';
import { entityOf, stageOf, targetOf } from './span-facts.js';
import type { StageFact } from './span-facts.js';

export interface TraceFacts {
  graph: TraceGraph;
  stage: (StageFact | undefined)[];
  entity: (FindingEntity | undefined)[];
  target: (string | undefined)[];
}

export function readFacts(spans: readonly Span[]): TraceFacts {
  const graph = buildTraceGraph(spans);
  const n = graph.spans.length;
  const stage = new Array<StageFact | undefined>(n);
  const entity = new Array<FindingEntity | undefined>(n);
  const target = new Array<string | undefined>(n);
  for (let i = 0; i < n; i++) {
    const s = graph.spans[i]!;
    const st = stageOf(s);
    stage[i] = st;
    // Only stage spans carry chain semantics; reading the rest would be wasted work.
    entity[i] = st === undefined ? undefined : entityOf(s);
    target[i] = st === undefined ? undefined : targetOf(s);
  }
  return { graph, stage, entity, target };
}

