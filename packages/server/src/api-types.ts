/**
 * The query API's response types, for the web UI and other TypeScript clients. Type-only: importing
 * this module (`import type { … } from '@linktrace/server/api-types'`) brings no runtime code into a
 * browser bundle.
 */
import type { DependencyLink, Finding, Operation, RuleId, TraceSummary } from '@linktrace/storage';
import type { FlowContract, FlowStep, FlowSummary, ServiceMap, ServiceMapEdge, ServiceMapNode, ServiceMapNodeKind } from '@linktrace/analysis';
import type { GapRow, LostHopRow, MoreGapsRow, SpanRow, TraceGapSummary, TraceRow } from '@linktrace/analysis';
import type { ErrorBody, ErrorCode } from './errors.js';
import type { BrokenInstance, FlowBucket, FlowDetail, FlowView } from './checker/flow-registry.js';
import type { SkewMark, SpanJson, TraceView } from './query/trace-view-types.js';
import type { FindingRemedySummary, FindingView } from './remedies/finding-views.js';
import type { RemedyDryRunResponse, RemedyRequestResponse, RemedyView } from './remedies/remedy-routes.js';

export type { FindingRemedySummary, FindingView };
/** `POST /api/v1/findings/{id}/remedy`, `GET /api/v1/remedies/{id}` (`{ remedy }`). */
export type { RemedyDryRunResponse, RemedyRequestResponse, RemedyView };

export type { DependencyLink, Finding, Operation, RuleId, TraceSummary };
export type { FlowContract, FlowStep, FlowSummary, ServiceMap, ServiceMapEdge, ServiceMapNode, ServiceMapNodeKind };
export type { ErrorBody, ErrorCode };
export type { BrokenInstance, FlowBucket, FlowDetail, FlowView };
/** `GET /api/v1/traces/{id}`: the assembled trace (its `rows` are what the CLI and the UI draw). */
export type { SkewMark, SpanJson, TraceView, TraceRow, SpanRow, LostHopRow, GapRow, MoreGapsRow, TraceGapSummary };

/** `GET /api/v1/traces` */
export interface TraceSearchResponse {
  traces: TraceSummary[];
}

/** `GET /api/v1/findings` (and the trace view's `findings`): each with its id and its latest remedy. */
export interface FindingsResponse {
  findings: FindingView[];
}

/** `GET /api/v1/services` */
export interface ServicesResponse {
  services: string[];
}

/** `GET /api/v1/services/{service}/operations` */
export interface OperationsResponse {
  operations: Operation[];
}

/** `GET /api/v1/dependencies` */
export interface DependenciesResponse {
  dependencies: DependencyLink[];
}

/** `GET /api/v1/service-map` */
export type ServiceMapResponse = ServiceMap;

/** `GET /api/v1/flows` */
export interface FlowsResponse {
  flows: FlowView[];
}

/** `GET /api/v1/flows/{name}` */
export type FlowDetailResponse = FlowDetail;

/** `GET /api/v1/metrics/red`: one point per step (t in µs, rate per second, durations in µs). */
export type { RedResponseBody as RedResponse } from './red/red-route.js';
export type { RedPoint } from './red/red-query.js';
/** `GET /api/v1/metrics/red/operations`: each operation's totals over the range, slowest p99 first. */
export type { RedOperationsResponseBody as RedOperationsResponse } from './red/red-route.js';
export type { RedOperationSummary } from './red/red-query.js';

/** `GET /api/v1/compare`: two traces or two groups compared call by call. */
export type { CompareResponseBody as CompareResponse } from './routes/compare-route.js';
export type { CallChange, CallStats, ComparedCall, ComparisonSide, TraceComparison } from '@linktrace/analysis';
