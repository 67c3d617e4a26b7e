/**
 * The JSON shapes of Jaeger's query API (`/api/*`, jaeger-query's `structuredResponse` and its UI
 * model), as Grafana's Jaeger data source and Jaeger UI read them.
 */

/** Jaeger's tag value types. */
export type JaegerTagType = 'string' | 'bool' | 'int64' | 'float64' | 'binary';

export interface JaegerTag {
  key: string;
  type: JaegerTagType;
  /** A string for `string` and `binary` (base64), a number for `int64`/`float64`, a boolean for `bool`. */
  value: string | number | boolean;
}

export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}

export interface JaegerLog {
  /** µs since the epoch. */
  timestamp: number;
  fields: JaegerTag[];
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  /** µs since the epoch. */
  startTime: number;
  /** µs. */
  duration: number;
  tags: JaegerTag[];
  logs: JaegerLog[];
  processID: string;
  warnings: string[] | null;
}

export interface JaegerProcess {
  serviceName: string;
  tags: JaegerTag[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, JaegerProcess>;
  warnings: string[] | null;
}

export interface JaegerError {
  code?: number;
  msg: string;
  /** Set on a per-trace error of a search by ids (the trace was not found). */
  traceID?: string;
}

/** Every answer of the API: `data` plus Jaeger's paging fields (which it leaves 0) and errors. */
export interface JaegerResponse<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: JaegerError[] | null;
}

export interface JaegerOperation {
  name: string;
  /** `server`, `client`, `producer`, `consumer`, `internal`. */
  spanKind: string;
}

export interface JaegerDependencyLink {
  parent: string;
  child: string;
  callCount: number;
}
