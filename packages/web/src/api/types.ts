/**
 * The query API's response types, imported type-only from the server (`api-types.ts`, re-exported
 * by `@linktrace/server`): erased at build, so the bundle holds no server code and the UI cannot
 * drift from what the server answers.
 */
import type { ServiceMapEdge, ServiceMapNode } from '@linktrace/server';

export type {
  BrokenInstance,
  DependencyLink,
  ErrorBody as ApiErrorBody,
  Finding,
  FlowBucket,
  FlowDetailResponse as FlowDetail,
  FlowsResponse,
  FlowView,
  FindingsResponse,
  FindingRemedySummary,
  FindingView,
  DependenciesResponse,
  Operation,
  OperationsResponse,
  RemedyDryRunResponse,
  RemedyRequestResponse,
  RemedyView,
  RuleId,
  ServiceMapEdge,
  ServiceMapNode,
  ServiceMapResponse,
  ServicesResponse,
  SkewMark,
  SpanJson,
  SpanRow,
  TraceRow,
  TraceSearchResponse,
  TraceSummary,
  TraceView,
} from '@linktrace/server';

/**
 * The map as the page draws it. Built from `/api/v1/dependencies` on servers without
 * `/api/v1/service-map`, it has no queues and no p99, hence the optional `p99Us`.
 */
export interface DisplayMap {
  nodes: ServiceMapNode[];
  edges: (Omit<ServiceMapEdge, 'p99Us'> & { p99Us?: number })[];
}
